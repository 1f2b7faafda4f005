/** The devices a page opens: `?device=NAME` makes the window one device; otherwise three. */
export const DEFAULT_DEVICES = ['phone', 'laptop', 'tablet'] as const;

const DEVICE_NAME = /^[a-z0-9][a-z0-9-]{0,23}$/;

export function devicesOf(search: string): string[] {
  const name = new URLSearchParams(search).get('device')?.trim().toLowerCase();
  return name !== undefined && DEVICE_NAME.test(name) ? [name] : [...DEFAULT_DEVICES];
}

/** The relay: `?relay=ws://…`, or `path` (default `/sync`) on the page's own origin (the dev server and the relay's static server both serve it there). */
export function relayUrlOf(location: { readonly search: string; readonly protocol: string; readonly host: string; readonly path?: string }): string {
  const explicit = new URLSearchParams(location.search).get('relay');
  if (explicit !== null && /^wss?:\/\//.test(explicit)) return explicit;
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${location.path ?? '/sync'}`;
}

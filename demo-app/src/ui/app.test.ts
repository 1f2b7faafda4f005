// @vitest-environment happy-dom
import { html } from 'htm/preact';
import { render } from 'preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Device } from '../device.js';
import type { KeyValue } from '../edit-log.js';
import { Page } from '../page.js';
import { App } from './app.js';

const memoryKv = (): KeyValue => {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
};

let devices: Device[] = [];
let root: HTMLElement;

/** Two local-only devices (memory storage, no relay) rendered by the App, with milk in stock. */
async function mount(): Promise<Device[]> {
  const names = ['phone', 'laptop'].map((name) => `${name}-${Math.random().toString(36).slice(2, 8)}`);
  const page = new Page(memoryKv(), names);
  const kv = memoryKv();
  devices = await Promise.all(names.map((name) => Device.open({ name, storage: 'memory', page, kv })));
  for (const d of devices) await d.client.collection('inventory').put('milk', { stock: 2 });
  root = document.createElement('div');
  document.body.append(root);
  render(html`<${App} devices=${devices} page=${page} />`, root);
  return devices;
}

const card = (device: Device) => root.querySelector<HTMLElement>(`[data-device="${device.name}"]`)!;
/** A button by the start of its accessible name: what it shows, then what it does; "on DEVICE" ends it. */
const button = (scope: HTMLElement, label: string) => scope.querySelector<HTMLButtonElement>(`button[aria-label^="${label} on "]`)!;
const qty = (device: Device, cart: string, item: string) => card(device).querySelector(`[data-item="${item}"] [data-cart="${cart}"]`)?.getAttribute('data-qty');

afterEach(async () => {
  render(null, root);
  root.remove();
  await Promise.all(devices.map((d) => d.close()));
});

describe('the demo page (happy-dom, local-only devices)', () => {
  it('an edit on one device goes to its three carts, each value pending, and its outbox lists the three writes as local', async () => {
    const [phone] = await mount();
    await vi.waitFor(() => expect(button(card(phone!), '+ cart: add milk')).toBeTruthy());
    button(card(phone!), '+ cart: add milk').click();
    await vi.waitFor(() => expect(qty(phone!, 'cart', 'milk')).toBe('1'));
    expect(qty(phone!, 'naive-cart', 'milk')).toBe('1');
    expect(qty(phone!, 'lww-cart', 'milk')).toBe('1');
    const badges = [...card(phone!).querySelectorAll('.carts thead [data-badge]')].map((b) => b.getAttribute('data-badge'));
    expect(badges).toEqual(['pending', 'pending', 'pending']);
    await vi.waitFor(() => expect(card(phone!).querySelector('[data-write="+1 milk"]')?.textContent).toMatch(/cart local.*naive local.*lww local/));
  });

  it('the stepper changes the quantity and removes the item at zero, in all three carts', async () => {
    const [phone] = await mount();
    await vi.waitFor(() => expect(button(card(phone!), '+ cart: add milk')).toBeTruthy());
    button(card(phone!), '+ cart: add milk').click();
    await vi.waitFor(() => expect(button(card(phone!), '+1 milk')).toBeTruthy());
    button(card(phone!), '+1 milk').click();
    await vi.waitFor(() => expect(qty(phone!, 'cart', 'milk')).toBe('2'));
    button(card(phone!), '× remove milk').click();
    await vi.waitFor(() => expect(card(phone!).querySelector('[data-item="milk"]')).toBeNull());
  });

  it('the online switch pauses the client (offline) and is a keyboard-reachable switch', async () => {
    const [phone] = await mount();
    const toggle = card(phone!).querySelector<HTMLInputElement>('input[role="switch"]')!;
    expect(toggle.getAttribute('aria-label')).toBe(`${phone!.name} online`);
    toggle.click();
    await vi.waitFor(() => expect(phone!.client.status.get().paused).toBe(true));
    await vi.waitFor(() => expect(card(phone!).classList.contains('offline')).toBe(true));
  });

  it("the inspector shows the cart's sibling with its dot and the rule that produced the value", async () => {
    const [phone] = await mount();
    await vi.waitFor(() => expect(button(card(phone!), '+ cart: add milk')).toBeTruthy());
    button(card(phone!), '+ cart: add milk').click();
    await vi.waitFor(() => expect(root.querySelector('.siblings tbody code')?.textContent).toBe('phone:1'.replace('phone', phone!.name)));
    expect(root.querySelector('.inspection .rule')?.textContent).toContain("the join of the siblings' dot-stores");
  });

  it('reads as prose: the spaces next to elements survive the templates', async () => {
    const [phone] = await mount();
    await vi.waitFor(() => expect(root.querySelector('.context')).toBeTruthy());
    expect(root.querySelector('.try')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'Switch a device offline, edit the cart on two devices, switch them back online. The correct cart merges by dots; the naive and LWW carts get the same edits and are wrong on purpose.',
    );
    expect(root.querySelector('.context')?.textContent?.replace(/\s+/g, ' ').trim()).toBe('Version vector: empty · pending writes: none');
    await vi.waitFor(() => expect(button(card(phone!), '+ cart: add milk')).toBeTruthy());
    button(card(phone!), '+ cart: add milk').click();
    await vi.waitFor(() => expect(card(phone!).querySelector('.lww-line')?.textContent).toBe(`LWW shows ${phone!.name}'s cart; nothing hidden.`));
  });
});

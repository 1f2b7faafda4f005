/** How many characters of a replica id the page shows (ids are 16 random base64url characters). */
const SHORT = 4;
const UNNAMED = 6;

/**
 * How the page names a replica: the device name it registered in the `devices` collection. A
 * device whose browser data was cleared opens a new replica under its old name, so when
 * several replicas registered one name each also shows the start of its id, as much as tells
 * them apart ("phone·k3Xa"); a replica that registered no name shows the start of its id.
 */
export function replicaLabel(names: ReadonlyMap<string, string>, replica: string): string {
  const name = names.get(replica);
  if (name === undefined) return replica.slice(0, UNNAMED);
  const twins = [...names].filter(([id, other]) => other === name && id !== replica).map(([id]) => id);
  if (twins.length === 0) return name;
  let length = SHORT;
  while (length < replica.length && twins.some((id) => id.startsWith(replica.slice(0, length)))) length++;
  return `${name}·${replica.slice(0, length)}`;
}

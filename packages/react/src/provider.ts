import { createContext, createElement, useContext, type ReactNode } from 'react';
import type { Client } from '@converge/client';

const ClientContext = createContext<Client | null>(null);

export interface ConvergeProviderProps {
  readonly client: Client;
  readonly children?: ReactNode;
}

/**
 * Makes `client` the one the hooks below it use.
 *
 * @example
 * ```tsx
 * // In a browser: createClient({ name, url }) — IndexedDB, and your relay.
 * const client = await createClient({ name: 'example-provider', storage: 'memory' });
 * function App() {
 *   return <p>replica {useClient().replicaId}</p>;
 * }
 * createRoot(element).render(
 *   <ConvergeProvider client={client}>
 *     <App />
 *   </ConvergeProvider>,
 * );
 * ```
 */
export function ConvergeProvider({ client, children }: ConvergeProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The client of the nearest `ConvergeProvider`; throws when there is none. */
export function useClient(): Client {
  const client = useContext(ClientContext);
  if (client === null) throw new Error('@converge/react: no <ConvergeProvider client={…}> above this component');
  return client;
}

import { createClient } from '@converge/client';
import { ConvergeProvider } from '@converge/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';

// `?device=NAME`: each name is its own replica (its own IndexedDB database), so two windows of
// one browser can play two devices. Tabs of one device share its database and one socket.
const device = new URLSearchParams(location.search).get('device') ?? 'this-device';
const client = await createClient({
  name: `react-todo-${device}`,
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sync`,
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ConvergeProvider client={client}>
      <App device={device} />
    </ConvergeProvider>
  </StrictMode>,
);

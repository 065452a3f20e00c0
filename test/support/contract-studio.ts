import type { TestContext } from 'node:test';
import { ContractClient } from '../../app/contract/client.js';
import { createMemoryTransportPair } from '../../app/contract/memory-transport.js';
import { serveContract } from '../../app/contract/server.js';
import { type AppServices, createAppServices } from '../../app/services/app-services.js';

/** The studio's channels through the real contract (validated both ways), the page's home being `home`; closed when the test ends. */
export function contractStudio(t: TestContext, home: string): { client: ContractClient; services: AppServices } {
  const services = createAppServices({ browseHome: home });
  const [clientEnd, hostEnd] = createMemoryTransportPair();
  serveContract(services.registry, hostEnd, services.events);
  const client = new ContractClient(clientEnd);
  t.after(async () => {
    client.close();
    await services.close();
  });
  return { client, services };
}

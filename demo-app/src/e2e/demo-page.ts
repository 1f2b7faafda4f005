import type { Locator, Page } from 'playwright-core';

/** Retries `check` until it passes (the UI settles asynchronously), bounded in time. */
export async function settled(check: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
}

/** The demo page as a visitor drives it: by its buttons and switches, reading what the cards show. */
export class DemoPage {
  constructor(readonly page: Page) {}

  device(name: string): Locator {
    return this.page.locator(`[data-device="${name}"]`);
  }

  async waitConnection(name: string, connection: 'synced' | 'offline', timeout = 30_000): Promise<void> {
    await this.device(name).locator(`[data-connection="${connection}"]`).waitFor({ timeout });
  }

  async setOnline(name: string, online: boolean): Promise<void> {
    await this.device(name)
      .getByRole('switch', { name: `${name} online` })
      .setChecked(online);
    await this.waitConnection(name, online ? 'synced' : 'offline');
  }

  /** Presses a device's button by its accessible name, which starts with what the button shows and ends with "on DEVICE". */
  async press(name: string, label: string): Promise<void> {
    await this.device(name)
      .getByRole('button', { name: `${label} on ${name}`, exact: true })
      .click();
  }

  /** The quantity a cart column shows for an item (0 when the item is not in that cart). */
  async qty(name: string, cart: 'cart' | 'naive-cart' | 'lww-cart', item: string): Promise<number> {
    const cell = this.device(name).locator(`[data-item="${item}"] [data-cart="${cart}"]`);
    return (await cell.count()) === 0 ? 0 : Number(await cell.getAttribute('data-qty'));
  }

  /** All three carts of a device: `{ cart, naive, lww }` item → quantity. */
  async carts(name: string): Promise<Record<'cart' | 'naive' | 'lww', Record<string, number>>> {
    const rows = this.device(name).locator('table.carts tbody tr[data-item]');
    const out = { cart: {} as Record<string, number>, naive: {} as Record<string, number>, lww: {} as Record<string, number> };
    for (const item of await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-item')!))) {
      for (const [key, cart] of [
        ['cart', 'cart'],
        ['naive', 'naive-cart'],
        ['lww', 'lww-cart'],
      ] as const) {
        const n = await this.qty(name, cart, item);
        if (n > 0) out[key][item] = n;
      }
    }
    return out;
  }

  async stock(name: string, product: string): Promise<number> {
    return Number(await this.device(name).locator(`[data-product="${product}"] [data-stock]`).getAttribute('data-stock'));
  }

  /** The badges on the three cart columns' headers. */
  async cartBadges(name: string): Promise<string[]> {
    return this.device(name)
      .locator('table.carts thead [data-badge]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-badge')!));
  }

  /** The "what just happened" banner, its whitespace collapsed. */
  async whatHappened(): Promise<string> {
    return ((await this.page.locator('[data-what-happened]').textContent()) ?? '').replace(/\s+/g, ' ').trim();
  }

  /** The line above a device's outbox rows: its heading and what is pending. */
  async outboxHeading(name: string): Promise<string> {
    return ((await this.device(name).locator('.outbox h3').textContent()) ?? '').replace(/\s+/g, ' ').trim();
  }

  /** Where a product's stock cell sits on the page. */
  async stockBox(name: string, product: string): Promise<{ x: number; width: number }> {
    return this.device(name)
      .locator(`[data-product="${product}"] td.stock`)
      .evaluate((td) => {
        const box = td.getBoundingClientRect();
        return { x: box.x, width: box.width };
      });
  }

  /** Rows of a device's writes list that are cut: partly inside the list's visible box and partly outside it. */
  async cutWrites(name: string): Promise<string[]> {
    return this.device(name)
      .locator('ol.writes')
      .evaluate((ol) => {
        const top = ol.getBoundingClientRect().top + ol.clientTop;
        const bottom = top + ol.clientHeight;
        const cut = (li: Element) => {
          const box = li.getBoundingClientRect();
          return box.height > 0 && box.top < bottom - 0.5 && box.bottom > top + 0.5 && (box.top < top - 0.5 || box.bottom > bottom + 0.5);
        };
        return [...ol.children].filter(cut).map((li) => li.getAttribute('data-write')!);
      });
  }

  /**
   * Buttons in `scope` whose accessible name does not contain their visible text (WCAG 2.5.3
   * "label in name"), as Playwright's role query computes the name: a speech-input user who says
   * what the button shows would not reach them.
   */
  async labelNotInName(scope: Locator | Page = this.page): Promise<{ text: string; label: string | null }[]> {
    const buttons = scope.getByRole('button');
    const checked = await Promise.all(
      (await buttons.all()).map(async (button) => {
        const text = (await button.innerText()).replace(/\s+/g, ' ').trim();
        const named = text === '' || (await button.and(scope.getByRole('button', { name: text })).count()) === 1;
        return named ? [] : [{ text, label: await button.getAttribute('aria-label') }];
      }),
    );
    return checked.flat();
  }

  /** Outbox rows of a device: label, the text of their status chips, and the note under them. */
  async writes(name: string): Promise<{ label: string; chips: string; note: string | undefined }[]> {
    return this.device(name)
      .locator('ol.writes li')
      .evaluateAll((lis) =>
        lis.map((li) => ({
          label: li.getAttribute('data-write')!,
          chips: li.querySelector('.chips')!.textContent!.trim(),
          note: li.querySelector('.note')?.textContent ?? undefined,
        })),
      );
  }
}

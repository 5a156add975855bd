// The project files HubSpot reads on `hs project upload`, checked against what Herald needs.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { HERALD_ORIGIN } from '../src/app/cards/config.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function readJson(path: string) {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
}

const project = readJson('hsproject.json');
const app = readJson('src/app/app-hsmeta.json');
const card = readJson('src/app/cards/herald-card-hsmeta.json');

describe('hsproject.json', () => {
  it('uses the developer platform, 2025.2 or newer', () => {
    expect(project.srcDir).toBe('src');
    const [year, release] = String(project.platformVersion).split('.').map(Number);
    expect(year * 100 + release).toBeGreaterThanOrEqual(2025 * 100 + 2);
  });
});

describe('app-hsmeta.json', () => {
  it('is an OAuth app with the contact scopes Herald uses', () => {
    expect(app.type).toBe('app');
    expect(app.config.auth.type).toBe('oauth');
    // Reading contacts for the card; writing communications and notes on them needs contacts write.
    expect(app.config.auth.requiredScopes).toEqual(
      expect.arrayContaining(['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write'])
    );
  });

  it("sends the OAuth install back to Herald's callback", () => {
    expect(app.config.auth.redirectUrls).toEqual([`${HERALD_ORIGIN}/hubspot/oauth/callback`]);
  });

  it("permits fetch and iframe on Herald's origin, the one the card calls", () => {
    expect(app.config.permittedUrls.fetch).toEqual([HERALD_ORIGIN]);
    expect(app.config.permittedUrls.iframe).toEqual([HERALD_ORIGIN]);
    expect(HERALD_ORIGIN).toMatch(/^https:\/\/[^/]+$/);
  });
});

describe('herald-card-hsmeta.json', () => {
  it('puts the card on contact records', () => {
    expect(card.type).toBe('card');
    expect(['crm.record.tab', 'crm.record.sidebar']).toContain(card.config.location);
    expect(card.config.objectTypes).toEqual(['contacts']);
    expect(card.uid).not.toBe(app.uid);
  });

  it('points at the card source, relative to srcDir', () => {
    expect(card.config.entrypoint).toBe('/app/cards/HeraldCard.tsx');
    expect(existsSync(join(ROOT, project.srcDir, card.config.entrypoint))).toBe(true);
  });

  it('registers the card for the same location it is declared for', () => {
    const source = readFileSync(join(ROOT, 'src/app/cards/HeraldCard.tsx'), 'utf8');
    expect(source).toContain(`hubspot.extend<'${card.config.location}'>`);
  });
});

describe('package versions', () => {
  it('builds the card on HubSpot with the same versions the tests run', () => {
    const root = readJson('package.json');
    const cardPackage = readJson('src/app/cards/package.json');
    const all = { ...cardPackage.dependencies, ...cardPackage.devDependencies };
    for (const [name, version] of Object.entries(all)) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
      expect(root.devDependencies[name], name).toBe(version);
    }
  });
});

describe('types', () => {
  it('the card and its tests type-check against @hubspot/ui-extensions', () => {
    const require = createRequire(import.meta.url);
    const tsc = require.resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 120_000);
});

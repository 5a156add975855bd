import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { APP_META, CARD_CONFIG, normaliseOrigin, setOrigin } from '../scripts/set-origin.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'set-origin.mjs');

let project: string;

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'herald-hubspot-'));
  for (const file of [APP_META, CARD_CONFIG]) {
    mkdirSync(dirname(join(project, file)), { recursive: true });
    cpSync(join(ROOT, file), join(project, file));
  }
});

afterEach(() => {
  rmSync(project, { recursive: true, force: true });
});

function appMeta() {
  return JSON.parse(readFileSync(join(project, APP_META), 'utf8'));
}

function cardConfig() {
  return readFileSync(join(project, CARD_CONFIG), 'utf8');
}

describe('set-origin', () => {
  it('rewrites the origin in app-hsmeta.json and in the card config', () => {
    const result = setOrigin(project, 'https://herald.acme.com/');

    expect(result).toEqual({ from: 'https://herald.example.com', to: 'https://herald.acme.com' });
    const meta = appMeta();
    expect(meta.config.permittedUrls.fetch).toEqual(['https://herald.acme.com']);
    expect(meta.config.permittedUrls.iframe).toEqual(['https://herald.acme.com']);
    expect(meta.config.auth.redirectUrls).toEqual(['https://herald.acme.com/hubspot/oauth/callback']);
    expect(meta.config.permittedUrls.img).toEqual([]);
    expect(meta.config.auth.requiredScopes).toContain('crm.objects.contacts.write');
    expect(cardConfig()).toContain("export const HERALD_ORIGIN = 'https://herald.acme.com';");
    expect(cardConfig()).not.toContain('herald.example.com');
  });

  it('can be run again to move to another origin, and leaves nothing of the old one', () => {
    setOrigin(project, 'https://herald.acme.com');
    const result = setOrigin(project, 'https://messages.acme.co.uk:8443');

    expect(result.from).toBe('https://herald.acme.com');
    const text = readFileSync(join(project, APP_META), 'utf8');
    expect(text).not.toContain('herald.acme.com');
    expect(appMeta().config.permittedUrls.fetch).toEqual(['https://messages.acme.co.uk:8443']);
    expect(cardConfig()).toContain("'https://messages.acme.co.uk:8443'");
  });

  it.each([
    ['http://herald.acme.com', /https/],
    ['https://localhost:5000', /localhost/],
    ['https://127.0.0.1', /localhost/],
    ['https://herald.acme.com/herald', /origin only/],
    ['https://herald.acme.com/?x=1', /origin only/],
    ['herald.acme.com', /not a URL/],
  ])('refuses %s', (origin, reason) => {
    expect(() => normaliseOrigin(origin)).toThrow(reason);
  });

  it('changes nothing and exits 1 when the origin is refused on the command line', () => {
    const before = readFileSync(join(ROOT, APP_META), 'utf8');
    const run = spawnSync(process.execPath, [SCRIPT, 'http://herald.acme.com'], { encoding: 'utf8' });

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('https');
    expect(readFileSync(join(ROOT, APP_META), 'utf8')).toBe(before);
  });
});

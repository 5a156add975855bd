#!/usr/bin/env node
// Point the HubSpot project at a Herald deployment.
//
//   node scripts/set-origin.mjs https://herald.acme.com
//
// Rewrites, in one go, every place the project names Herald's origin:
//   - src/app/app-hsmeta.json: permittedUrls.fetch, permittedUrls.iframe and the OAuth redirectUrls
//   - src/app/cards/config.ts: the HERALD_ORIGIN constant the card calls
// The origin is the scheme and host (and port, if any) of Herald's PUBLIC_BASE_URL.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const APP_META = join('src', 'app', 'app-hsmeta.json');
export const CARD_CONFIG = join('src', 'app', 'cards', 'config.ts');

const CONSTANT_RE = /export const HERALD_ORIGIN = '([^']*)';/;

export class OriginError extends Error {}

/** Check and normalise an origin the way hubspot.fetch will need it. */
export function normaliseOrigin(input) {
  let url;
  try {
    url = new URL(String(input ?? '').trim());
  } catch {
    throw new OriginError(`"${input}" is not a URL. Give an origin such as https://herald.example.com`);
  }
  if (url.protocol !== 'https:') {
    throw new OriginError(`HubSpot only calls https origins; "${input}" is ${url.protocol.replace(':', '')}.`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host.startsWith('127.') || host === '::1') {
    throw new OriginError(
      'HubSpot cannot call localhost. For local development keep the public origin here and ' +
        'proxy it to your machine with src/app/local.json (see README.md).',
    );
  }
  if (url.username || url.password) {
    throw new OriginError('An origin carries no user name or password.');
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new OriginError(
      `Give the origin only (scheme and host, e.g. ${url.origin}); Herald's HubSpot routes live at its root.`,
    );
  }
  return url.origin;
}

function replaceOrigin(url, from, to) {
  if (url === from) return to;
  if (url.startsWith(`${from}/`)) return to + url.slice(from.length);
  return url;
}

function withOrigin(list, from, to) {
  const next = (Array.isArray(list) ? list : []).map((url) => replaceOrigin(url, from, to));
  if (!next.includes(to)) next.push(to);
  return [...new Set(next)];
}

/**
 * Rewrite the origin in the project under `projectDir`. Returns `{ from, to }`.
 * Throws OriginError for an origin HubSpot would refuse.
 */
export function setOrigin(projectDir, input) {
  const to = normaliseOrigin(input);
  const configPath = join(projectDir, CARD_CONFIG);
  const metaPath = join(projectDir, APP_META);

  const configText = readFileSync(configPath, 'utf8');
  const match = CONSTANT_RE.exec(configText);
  if (!match) {
    throw new OriginError(`${CARD_CONFIG} has no "export const HERALD_ORIGIN = '…';" line to rewrite.`);
  }
  const from = match[1];

  const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  const config = meta.config ?? (meta.config = {});
  const permitted = config.permittedUrls ?? (config.permittedUrls = {});
  permitted.fetch = withOrigin(permitted.fetch, from, to);
  permitted.iframe = withOrigin(permitted.iframe, from, to);
  if (config.auth && Array.isArray(config.auth.redirectUrls)) {
    config.auth.redirectUrls = config.auth.redirectUrls.map((url) => replaceOrigin(url, from, to));
  }

  writeFileSync(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  writeFileSync(configPath, configText.replace(CONSTANT_RE, `export const HERALD_ORIGIN = '${to}';`));
  return { from, to };
}

function main(argv) {
  const [origin] = argv;
  if (!origin || origin === '--help' || origin === '-h') {
    console.log('usage: node scripts/set-origin.mjs <origin>   e.g. https://herald.acme.com');
    return origin ? 0 : 2;
  }
  const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    const { from, to } = setOrigin(projectDir, origin);
    console.log(`Herald origin: ${from} -> ${to}`);
    console.log(`  updated ${APP_META} (permittedUrls.fetch, permittedUrls.iframe, auth.redirectUrls)`);
    console.log(`  updated ${CARD_CONFIG} (HERALD_ORIGIN)`);
    return 0;
  } catch (error) {
    if (error instanceof OriginError) {
      console.error(`set-origin: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}

/**
 * The origin of the Herald deployment this card talks to: the origin of Herald's PUBLIC_BASE_URL.
 *
 * It must match `permittedUrls.fetch` and `permittedUrls.iframe` in `../app-hsmeta.json`.
 * Change both at once with `node scripts/set-origin.mjs <origin>` (see the project README).
 */
export const HERALD_ORIGIN = 'https://herald.example.com';

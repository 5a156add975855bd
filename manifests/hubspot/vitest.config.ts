import { defineConfig } from 'vitest/config';

export default defineConfig({
  // One React and one copy of the HubSpot SDK, even if src/app/cards has its own node_modules
  // (hs project dev installs the card's dependencies there).
  resolve: { dedupe: ['react', '@hubspot/ui-extensions'] },
  esbuild: { jsx: 'automatic' },
  test: {
    environment: 'node',
    include: ['tests/**/*.test.{ts,tsx}'],
  },
});

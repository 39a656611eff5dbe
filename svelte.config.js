import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    // Static site: served from any plain file server, so every page is prerendered and
    // the run is chosen by query parameters on the root page (no rewrite rules needed).
    adapter: adapter({ pages: 'build', assets: 'build', fallback: undefined, strict: true }),
    paths: { base: /** @type {'' | `/${string}`} */ (process.env.NV_BASE_PATH ?? ''), relative: true },
    files: {
      src: 'viewer/src',
      routes: 'viewer/src/routes',
      lib: 'viewer/src/lib',
      appTemplate: 'viewer/src/app.html',
      assets: 'viewer/static',
    },
    alias: {
      $core: 'core',
    },
  },
};

export default config;

import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The build output (web/dist) is committed and embedded into the Rust binary,
// and CI rebuilds it and diffs against the committed copy: keep the output
// deterministic (content hashes only, no timestamps, no source maps).
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: true,
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: {
        // Pages keep their names; shared chunks are named for what they are
        // (rolldown would name them after an arbitrary first module).
        chunkFileNames: (chunk) =>
          chunk.isDynamicEntry || chunk.name === 'react' ? 'assets/[name]-[hash].js' : 'assets/shared-[hash].js',
        codeSplitting: {
          groups: [
            // React + router: changes rarely, cached separately from the app.
            {
              name: 'react',
              test: /[\\/]node_modules[\\/](react|react-dom|scheduler|react-router|cookie|set-cookie-parser)[\\/]/,
            },
          ],
        },
      },
    },
  },
  server: {
    port: 5173,
    proxy: {
      // `npm run dev` talks to a locally running server (default port 8080).
      '/api': process.env.BOTMOX_DEV_API ?? 'http://127.0.0.1:8080',
    },
  },
});

import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The node serves the built files itself (embedded in the `mpos` binary); `npm run dev`
// proxies the API to a node on 127.0.0.1:7070.
export default defineConfig({
  plugins: [preact()],
  build: {
    target: "es2022",
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      "/mpos.v1.Pos": "http://127.0.0.1:7070",
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});

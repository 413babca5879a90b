// Builds the demo (www/: a chat room on the npm package) into www/dist with webpack 5, as an
// app that depends on resocket would: `npm run build`, or `npm start` to build and serve it
// with the bundled server. www/chat.js imports the package from www/pkg, where scripts/demo
// (and the test command) put the freshly built package first.
//
// Nothing here is specific to resocket: webpack 5 handles the package's wasm loading
// (`new URL('resocket_bg.wasm', import.meta.url)`) by default. The page loads chat.js as a
// module, so the bundle is one too.
const path = require('node:path');
const CopyPlugin = require('copy-webpack-plugin');

module.exports = (_env, argv) => ({
  mode: argv.mode ?? 'production',
  entry: './www/chat.js',
  experiments: { outputModule: true },
  output: {
    path: path.resolve(__dirname, 'www/dist'),
    filename: 'chat.js',
    module: true,
    clean: true,
  },
  // The demo's own source maps make its bundle readable in the browser's tools.
  devtool: argv.mode === 'development' ? 'source-map' : false,
  plugins: [
    new CopyPlugin({
      patterns: ['index.html', 'style.css'].map((file) => ({ from: `www/${file}`, to: file })),
    }),
  ],
  performance: { hints: false },
});

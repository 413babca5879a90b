// Nothing resocket-specific: webpack 5 handles the package's
// `new URL('resocket_bg.wasm', import.meta.url)` wasm loading by default.
const path = require('node:path');
const HtmlWebpackPlugin = require('html-webpack-plugin');

module.exports = {
  mode: 'production',
  entry: './src/index.js',
  output: { path: path.resolve(__dirname, 'dist') },
  plugins: [new HtmlWebpackPlugin({ title: 'resocket in webpack' })],
};

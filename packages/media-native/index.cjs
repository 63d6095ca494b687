'use strict';
// CommonJS entry: the addon built by `node-gyp rebuild` (npm install).
module.exports = require('./build/Release/convene_media.node');

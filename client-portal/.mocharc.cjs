// Unit tests: the settings every client shares (client-shared/mocharc.base.cjs).
module.exports = require('@streamspace/client-shared/mocharc.base.cjs');

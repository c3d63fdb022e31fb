// Minimal string-width for yargs' help layout: strip ANSI escapes, count code points.
module.exports = function stringWidth(s) {
  if (typeof s !== 'string' || s.length === 0) return 0;
  return [...s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')].length;
};
module.exports.default = module.exports;

// Puppeteer (used by Ace by DAISY in the tests) never downloads a browser: it drives
// Debian's Chromium, the one `make system` installs and the other browser tests use.
module.exports = {
  skipDownload: true,
  executablePath: "/usr/bin/chromium",
};

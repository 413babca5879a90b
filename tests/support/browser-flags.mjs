// What the scripts that launch a browser share: Chromium's flags and a Firefox profile's
// preferences.

import fs from 'node:fs';
import path from 'node:path';

// The flags Debian's Chromium needs on these machines, headless: no sandbox (tests run as
// root), no GPU, no QUIC, and nothing that would reach out to the network (first-run pages,
// background networking, component updates, sync), which the closed network refuses. Every
// script that launches Chromium starts from these.
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// What a page measured or tested in the background needs too: its timers and rendering not
// slowed down for being hidden.
export const UNTHROTTLED_FLAGS = [
  '--disable-extensions',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

// A fresh Firefox profile's preferences: no default-browser check, first-run page, telemetry
// or updates. Callers add what their run needs (`extra`, more `user_pref(...)` lines).
export function writeFirefoxPrefs(profile, extra = []) {
  const prefs = [
    'user_pref("browser.shell.checkDefaultBrowser", false);',
    'user_pref("browser.startup.homepage_override.mstone", "ignore");',
    'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
    'user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);',
    ...extra,
    '',
  ];
  fs.writeFileSync(path.join(profile, 'user.js'), prefs.join('\n'));
}

// The browse page in headless Chromium against a real server on the demo data (started by
// tests/browser.sh, which passes its address). Checks what the page must do and saves
// screenshots at desktop and phone widths under SHOTS.
//
//   node tests/browser/browser.mjs http://127.0.0.1:PORT
//
// Environment: CHROMIUM (default /usr/bin/chromium), SHOTS (default target/browser).

import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const base = process.argv[2];
const shots = process.env.SHOTS || 'target/browser';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!base || !base.startsWith('http://127.0.0.1:')) {
  console.error('usage: node browser.mjs http://127.0.0.1:PORT');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const problems = [];
let checks = 0;
function check(ok, what) {
  checks += 1;
  if (!ok) problems.push(what);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
}

/** Every request stays on 127.0.0.1 and none fails; the page logs no error. */
function watch(page, label) {
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.protocol === 'about:') return;
    if (url.hostname !== '127.0.0.1') problems.push(`${label}: a request left 127.0.0.1: ${request.url()}`);
  });
  page.on('requestfailed', (request) => problems.push(`${label}: request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${label}: ${response.status()} for ${response.url()}`);
  });
  page.on('pageerror', (error) => problems.push(`${label}: page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${label}: console error: ${message.text()}`);
  });
}

/** Waits until the page has no request under way, and has had none for a moment. */
async function settled(page) {
  await page.waitForFunction(() => document.documentElement.dataset.pending === '0', null, { timeout: 15000 });
  for (let quiet = 0; quiet < 3;) {
    await page.waitForTimeout(150);
    const pending = await page.evaluate(() => document.documentElement.dataset.pending);
    quiet = pending === '0' ? quiet + 1 : 0;
  }
}

const count = async (page) => Number(await page.getByTestId('result-count').getAttribute('data-count'));
const apiTotal = async (page, query) => {
  const response = await page.request.get(`${base}/v1/incidents?${query}&count=true&limit=1`);
  return (await response.json()).total;
};

/** The number of records of a CSV text (quoted fields may hold newlines), header excluded. */
function csvRecords(text) {
  let records = 0;
  let quoted = false;
  let empty = true;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\n' && !quoted) {
      if (!empty) records += 1;
      empty = true;
      continue;
    }
    empty = false;
  }
  if (!empty) records += 1;
  return records - 1;
}

/** What changes with the filters, to compare before and after. */
const snapshot = (page) => page.evaluate(() => ({
  url: location.search,
  count: document.querySelector('[data-testid=result-count]').dataset.count,
  rows: [...document.querySelectorAll('[data-testid=incident-row]')].map((r) => r.dataset.id).join(','),
  facets: [...document.querySelectorAll('[data-testid^=facet-] ul')].map((u) => u.textContent).join('|'),
  map: document.querySelector('[data-testid=map]').dataset.query,
  clusters: document.querySelector('[data-testid=map]').dataset.clusters,
}));

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

try {
  // Desktop: the whole world first.
  const desktop = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  await desktop.addInitScript(() => {
    window.layoutShift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.layoutShift += entry.value;
    }).observe({ type: 'layout-shift', buffered: true });
  });
  const page = await desktop.newPage();
  watch(page, 'desktop');
  await page.goto(`${base}/`);
  await settled(page);
  const everything = await apiTotal(page, '');
  check(await count(page) === everything, `/ shows result-count ${await count(page)} = the API's total ${everything}`);
  check(await page.getByTestId('incident-row').count() === Math.min(50, everything), 'the table shows the first page of rows');
  check(Number(await page.getByTestId('map').getAttribute('data-clusters')) > 0, 'the map shows clusters');
  for (const field of ['region', 'country', 'perpetrator', 'claim', 'event_type', 'dataset']) {
    check(await page.getByTestId(`facet-${field}`).locator('button').count() > 0, `facet-${field} lists values with counts`);
  }
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('#filters input, #filters select')]
    .filter((field) => !field.labels || field.labels.length === 0).map((field) => field.name));
  check(unlabelled.length === 0, `every filter has a label ${unlabelled.join(',')}`);
  const shift = await page.evaluate(() => window.layoutShift);
  check(shift < 0.05, `no layout jumps while loading (cumulative layout shift ${shift.toFixed(4)})`);
  await page.screenshot({ path: `${shots}/desktop-world.png` });

  // A shared link: only Afghan rows, and the API's total.
  await page.goto(`${base}/?country=AF`);
  await settled(page);
  const afghan = await apiTotal(page, 'country=AF');
  check(await count(page) === afghan, `/?country=AF: result-count ${await count(page)} = the API's total ${afghan}`);
  const countries = await page.getByTestId('incident-row').evaluateAll((rows) => rows.map((r) => r.dataset.country));
  check(countries.length > 0 && countries.every((c) => c === 'AFG'), `/?country=AF: all ${countries.length} rows are Afghan`);
  check(await page.getByTestId('filter-country').inputValue() === 'AF', 'the country filter shows AF');
  await page.screenshot({ path: `${shots}/desktop-afghanistan.png` });
  await page.locator('#results').screenshot({ path: `${shots}/desktop-table.png` });

  // Changing a filter updates the URL, the table, the facets and the map.
  const before = await snapshot(page);
  await page.getByTestId('filter-to').fill('2007-06');
  await page.getByTestId('filter-to').press('Enter');
  await settled(page);
  const after = await snapshot(page);
  const narrowed = await apiTotal(page, 'country=AF&to=2007-06');
  const url = new URLSearchParams(after.url);
  check(url.get('country') === 'AF' && url.get('to') === '2007-06', `the URL follows the filter (${after.url})`);
  check(Number(after.count) === narrowed && after.count !== before.count, `result-count ${after.count} = the API's ${narrowed}`);
  check(after.rows !== before.rows, 'the table changed');
  check(after.facets !== before.facets, 'the facets changed');
  check(after.map !== before.map && after.map.includes('to=2007-06'), 'the map asked for the new filter\'s cells');

  // A facet toggles its filter.
  const dataset = page.getByTestId('facet-dataset').locator('button').first();
  const value = await dataset.getAttribute('data-value');
  await dataset.click();
  await settled(page);
  check(new URL(page.url()).searchParams.get('dataset') === value, `facet-dataset adds dataset=${value} to the URL`);
  check(await page.getByTestId('facet-dataset').locator('button[aria-pressed=true]').count() === 1, 'the chosen facet value shows pressed');
  await page.getByTestId('facet-dataset').locator('button[aria-pressed=true]').click();
  await settled(page);
  check(!new URL(page.url()).searchParams.has('dataset'), 'clicking it again removes the filter');

  // The CSV export has exactly the table's total.
  const csvLink = await page.getByTestId('export-csv').getAttribute('href');
  const csv = await (await page.request.get(`${base}${csvLink}`)).text();
  check(csvRecords(csv) === await count(page), `the CSV export (${csvLink}) has ${csvRecords(csv)} rows = result-count`);
  const geojsonLink = await page.getByTestId('export-geojson').getAttribute('href');
  check(geojsonLink.includes('country=AF') && geojsonLink.includes('format=geojson'), 'the GeoJSON export is the same query');

  // Opening a row shows its sources.
  await page.goto(`${base}/?country=AF&from=2020`);
  await settled(page);
  const row = page.getByTestId('incident-row').first();
  const sources = Number(await row.locator('td').last().textContent());
  await row.locator('a.open').click();
  await settled(page);
  check(await page.getByTestId('incident-view').isVisible(), 'a row opens the incident view');
  check(new URL(page.url()).searchParams.has('incident'), 'the open incident is in the URL');
  const listed = await page.getByTestId('incident-source').count();
  check(sources > 0 && listed === sources, `the incident view lists its ${listed} sources (the table said ${sources})`);
  await page.screenshot({ path: `${shots}/desktop-incident.png` });
  await page.keyboard.press('Escape');
  check(!(await page.getByTestId('incident-view').isVisible()), 'Escape closes it');

  // The API docs: a link back to the page, and "Try it out" starts with empty parameters.
  const docs = await desktop.newPage();
  watch(docs, 'docs');
  await docs.goto(`${base}/docs/#/incidents/list_incidents`);
  const operation = docs.locator('#operations-incidents-list_incidents');
  await operation.locator('.try-out__btn').click();
  check(await docs.locator('.info a[href="/"]').count() === 1, 'the docs link back to /');
  const filled = await operation.locator('.parameters input, .parameters select')
    .evaluateAll((fields) => fields.filter((field) => field.value !== '').map((field) => field.placeholder || field.value));
  check(filled.length === 0, `"Try it out" starts with every parameter empty ${filled.join(',')}`);
  await operation.locator('.execute').click();
  const status = operation.locator('.live-responses-table tbody .response-col_status');
  await status.first().waitFor();
  const requested = await operation.locator('.request-url pre').first().textContent();
  check(requested === `${base}/v1/incidents` && (await status.first().textContent()).trim() === '200',
    `"Execute" then lists every incident (${requested})`);
  await docs.close();
  await desktop.close();

  // Phone width: the same link, nothing wider than the screen.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  watch(small, 'phone');
  await small.goto(`${base}/?country=AF`);
  await settled(small);
  check(await count(small) === afghan, 'the phone shows the same count');
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `nothing is wider than the phone's screen (overflow ${overflow}px)`);
  check(!(await small.getByTestId('filter-country').isVisible()), 'the filters fold away on a phone');
  await small.screenshot({ path: `${shots}/phone.png` });
  await small.locator('#filters-toggle').click();
  check(await small.getByTestId('filter-country').isVisible(), 'and unfold with their button');
  await small.screenshot({ path: `${shots}/phone-filters.png` });
  await phone.close();
} catch (error) {
  problems.push(`the test stopped: ${error.stack || error}`);
} finally {
  await browser.close();
}

check(problems.length === 0, 'no failed request, no request leaving 127.0.0.1, no page error');
if (problems.length) {
  console.error(`\n${problems.length} problems:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`\nall ${checks} checks passed; screenshots in ${shots}/`);

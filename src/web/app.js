/* incidentdb: the browse page. Plain JavaScript and SVG, no library and no build step; it
   reads the public API of the service that served it and nothing else. The whole state is in
   the page's query string, in the API's own parameters (/?country=AF&from=2020-11), plus
   `sort` and the open `incident`. */
(() => {
  'use strict';

  // ---------------------------------------------------------------- helpers

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const $ = (selector, root = document) => root.querySelector(selector);

  /** An element with attributes (`text` sets its text, `on*` adds a listener) and children. */
  function make(namespace, tag, attributes, children) {
    const node = namespace ? document.createElementNS(namespace, tag) : document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'text') node.textContent = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  const el = (tag, attributes, ...children) => make(null, tag, attributes, children);
  const svg = (tag, attributes, ...children) => make(SVG_NS, tag, attributes, children);

  const number = (n) => (n === null || n === undefined ? '?' : Number(n).toLocaleString('en-US'));

  /** Short counts for map labels: 950, 1.2k, 34k, 1.1M. */
  function short(n) {
    if (n < 1000) return String(n);
    if (n < 10000) return (n / 1000).toFixed(1).replace(/\.0$/, '') + 'k';
    if (n < 1e6) return Math.round(n / 1000) + 'k';
    return (n / 1e6).toFixed(1).replace(/\.0$/, '') + 'M';
  }

  /** A query string with readable commas and spaces. */
  function qs(params) {
    const parts = [];
    for (const [name, value] of params) {
      const encoded = encodeURIComponent(value).replace(/%2C/gi, ',').replace(/%20/g, '+');
      parts.push(`${encodeURIComponent(name)}=${encoded}`);
    }
    return parts.join('&');
  }

  const split = (list) => (list || '').split(',').map((v) => v.trim()).filter(Boolean);

  /** Thrown in place of an answer that a newer request has replaced. */
  const STALE = Symbol('stale');

  /** Requests under way or waiting, on `<html data-pending>`: what a test waits on. */
  let pending = 0;
  const countPending = (change) => {
    pending += change;
    document.documentElement.dataset.pending = pending;
  };

  async function getJSON(url) {
    countPending(1);
    let response;
    let body = null;
    try {
      response = await fetch(url, { headers: { Accept: 'application/json' } });
      body = await response.json().catch(() => null);
    } finally {
      countPending(-1);
    }
    if (!response.ok) {
      const error = new Error((body && body.detail) || `${response.status} ${response.statusText}`);
      error.problem = body;
      throw error;
    }
    return body;
  }

  /** At most this many of the page's data requests at once, sent in the order asked: the
      quick ones (a page of rows, the months) are not kept waiting behind the aggregations of
      a large view on the server's few connections, and a request that a newer one replaced
      while it waited is never sent. */
  const AT_ONCE = 3;
  const waiting = [];
  let running = 0;

  function pump() {
    while (running < AT_ONCE && waiting.length) {
      const request = waiting.shift();
      if (!request.current()) {
        countPending(-1);
        request.reject(STALE);
        continue;
      }
      running += 1;
      getJSON(request.url).then(request.resolve, request.reject).finally(() => {
        running -= 1;
        countPending(-1);
        pump();
      });
    }
  }

  /** A getter of JSON that lets only the answer to the latest of its requests through.
      Requests are never aborted: a cancelled request is a failed one, and an answer is cheap
      to drop. `first`: ahead of the waiting ones (what the user just asked for). */
  function latest({ first = false } = {}) {
    let serial = 0;
    return (url) => {
      const mine = ++serial;
      const current = () => mine === serial;
      countPending(1);
      return new Promise((resolve, reject) => {
        const request = { url, current, resolve, reject };
        if (first) waiting.unshift(request);
        else waiting.push(request);
        pump();
      }).then((value) => {
        if (!current()) throw STALE;
        return value;
      });
    };
  }

  // ---------------------------------------------------------------- state

  /** The filters the form edits, in the order the URL lists them (/?country=AF&from=2020-11). */
  const FORM_FILTERS = ['region', 'country', 'admin1', 'from', 'to', 'q', 'perpetrator', 'claim',
    'event_type', 'killed_min', 'killed_max', 'dataset', 'bbox'];
  /** The API's other filters: kept from a shared URL and applied, not edited here. */
  const OTHER_FILTERS = ['source_region', 'admin2', 'place', 'near', 'radius_km', 'sub_event_type',
    'external_id', 'updated_since'];
  const FILTERS = [...FORM_FILTERS, ...OTHER_FILTERS];
  const SORTS = ['-occurred_on', 'occurred_on', '-killed', 'killed', 'id'];
  const DEFAULT_SORT = '-occurred_on';
  const PAGE_SIZE = 50;

  function readState(search) {
    const params = new URLSearchParams(search);
    const filters = {};
    for (const name of FILTERS) {
      const values = params.getAll(name).map((v) => v.trim()).filter(Boolean);
      if (values.length) filters[name] = values.join(',');
    }
    const sort = SORTS.includes(params.get('sort')) ? params.get('sort') : DEFAULT_SORT;
    const incident = /^[0-9]+$/.test(params.get('incident') || '') ? params.get('incident') : null;
    return { filters, sort, incident };
  }

  let state = readState(location.search);

  function pageURL(next) {
    const params = [];
    for (const name of FILTERS) if (next.filters[name]) params.push([name, next.filters[name]]);
    if (next.sort !== DEFAULT_SORT) params.push(['sort', next.sort]);
    if (next.incident) params.push(['incident', next.incident]);
    return params.length ? `/?${qs(params)}` : '/';
  }

  /** The API parameters of the current filters, less `without`. */
  function apiParams(without = []) {
    const params = [];
    for (const name of FILTERS) {
      if (state.filters[name] && !without.includes(name)) params.push([name, state.filters[name]]);
    }
    return params;
  }

  const sameFilters = (a, b) => FILTERS.every((name) => (a[name] || '') === (b[name] || ''));

  /** Moves to a new state: the URL first (so it can be shared), then what it changes. */
  function navigate(filters, { sort = state.sort, incident = null, fit = true } = {}) {
    const clean = {};
    for (const name of FILTERS) {
      const value = (filters[name] === undefined ? '' : String(filters[name])).trim();
      if (value) clean[name] = value;
    }
    const next = { filters: clean, sort, incident };
    const url = pageURL(next);
    if (url !== location.pathname + location.search) history.pushState(null, '', url);
    const dataChanged = !sameFilters(next.filters, state.filters) || next.sort !== state.sort;
    state = next;
    if (dataChanged) refresh(fit);
    syncIncident();
  }

  const withFilter = (name, value) => navigate({ ...state.filters, [name]: value });

  window.addEventListener('popstate', () => {
    const next = readState(location.search);
    const dataChanged = !sameFilters(next.filters, state.filters) || next.sort !== state.sort;
    state = next;
    if (dataChanged) refresh(true);
    syncIncident();
  });

  // ---------------------------------------------------------------- problems

  const problemBox = $('#problem');
  const shownProblems = new Set();

  function clearProblems() {
    shownProblems.clear();
    problemBox.replaceChildren();
    for (const input of document.querySelectorAll('#filters [aria-invalid]')) input.removeAttribute('aria-invalid');
  }

  /** Shows what the API said about a request, once, with its suggestions as buttons. */
  function showProblem(error) {
    if (error === STALE) return;
    const problem = error.problem || {};
    const message = problem.detail || error.message || String(error);
    if (shownProblems.has(message)) return;
    shownProblems.add(message);
    const parameter = problem.parameter;
    const input = parameter && $(`#filters [name="${CSS.escape(parameter)}"]`);
    if (input) input.setAttribute('aria-invalid', 'true');
    const suggestions = (problem.suggestions || []).slice(0, 5).map((suggestion) => el('button', {
      type: 'button',
      text: `Use “${suggestion}”`,
      onclick: () => withFilter(parameter, suggestion),
    }));
    problemBox.append(el('p', { text: message }), ...suggestions);
    showFilters(true);
  }

  // ---------------------------------------------------------------- countries and regions

  /** alpha-3 → {name, alpha2}, and every spelling the API takes → alpha-3. */
  const countries = new Map();
  const countryCodes = new Map();
  const regionNames = [];

  const countryKey = (value) => countryCodes.get(value.toLowerCase()) || value.toLowerCase();
  const countryName = (code) => (countries.get(code) || {}).name || code;

  async function loadRegions() {
    const { regions } = await getJSON('/v1/regions');
    for (const region of regions) {
      regionNames.push(region.name);
      for (const country of region.countries) {
        countries.set(country.code, { name: country.name, alpha2: country.alpha2 });
        for (const spelling of [country.code, country.alpha2, country.name]) {
          countryCodes.set(spelling.toLowerCase(), country.code);
        }
      }
    }
    fillList('region', regionNames);
    fillList('country', [...countries.values()].map((c) => c.name).sort());
    renderFacet('country');
  }

  // ---------------------------------------------------------------- the form

  const form = $('#filters');
  const input = (name) => form.elements.namedItem(name);

  function fillList(name, values) {
    const list = document.getElementById(`l-${name}`);
    if (!list) return;
    const unique = [...new Set(values.filter(Boolean))].slice(0, 500);
    list.replaceChildren(...unique.map((value) => el('option', { value })));
  }

  function syncForm() {
    for (const name of FORM_FILTERS) {
      const field = input(name);
      const value = state.filters[name] || '';
      if (field.tagName === 'SELECT' && value && ![...field.options].some((o) => o.value === value)) {
        field.append(el('option', { value, text: value }));
      }
      field.value = value;
    }
    showFilters(form.classList.contains('open'));
    const others = OTHER_FILTERS.filter((name) => state.filters[name]);
    const extra = $('#extra-filters');
    extra.hidden = others.length === 0;
    extra.replaceChildren();
    if (others.length) {
      const rest = { ...state.filters };
      for (const name of others) delete rest[name];
      extra.append(
        `Also filtered by ${others.map((name) => `${name}=${state.filters[name]}`).join(', ')} `,
        el('a', { href: pageURL({ filters: rest, sort: state.sort }), text: 'remove' }),
      );
    }
  }

  function applyForm() {
    const filters = { ...state.filters };
    for (const name of FORM_FILTERS) filters[name] = input(name).value;
    navigate(filters);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    applyForm();
  });
  form.addEventListener('change', (event) => {
    if (event.target.name && FORM_FILTERS.includes(event.target.name)) applyForm();
  });
  $('#clear-bbox').addEventListener('click', () => withFilter('bbox', ''));

  /** Folds the filters away or out (on a phone; they always show on a wide screen). */
  const filtersToggle = $('#filters-toggle');
  function showFilters(open) {
    form.classList.toggle('open', open);
    filtersToggle.setAttribute('aria-expanded', String(open));
    const active = FILTERS.filter((name) => state.filters[name]).length;
    filtersToggle.textContent = `${open ? 'Hide' : 'Show'} filters${active ? ` (${active} set)` : ''}`;
  }
  filtersToggle.addEventListener('click', () => showFilters(!form.classList.contains('open')));

  // Suggestions from the stored values as one types (`/v1/vocabularies/{field}`: a prefix of
  // the last comma-separated name, among the incidents the other filters match, most frequent
  // first); admin areas are too many to list up front.
  for (const name of ['admin1', 'perpetrator', 'event_type', 'dataset']) {
    const suggest = latest({ first: true });
    let timer = null;
    const refresh = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const names = input(name).value.split(',');
        const typed = names.pop().trim();
        // Each option is the whole field: the names already given, then a suggestion.
        const given = names.map((n) => `${n.trim()}, `).join('');
        const params = [...apiParams([name, 'q']), ['limit', '50']];
        if (typed) params.push(['q', typed]);
        try {
          const vocabulary = await suggest(`/v1/vocabularies/${name}?${qs(params)}`);
          fillList(name, vocabulary.data.map((entry) => `${given}${entry.value}`));
        } catch (error) {
          // The views show what is wrong with the filters; a suggestion has nothing to add.
          if (error !== STALE) fillList(name, []);
        }
      }, 150);
    };
    input(name).addEventListener('focus', refresh);
    input(name).addEventListener('input', refresh);
  }

  // ---------------------------------------------------------------- links and exports

  function updateLinks() {
    const filters = apiParams();
    const sorted = state.sort === DEFAULT_SORT ? filters : [...filters, ['sort', state.sort]];
    const query = (extra) => qs([...sorted, ...extra]);
    $('#api-link').href = `/v1/incidents?${query([['count', 'true']])}`;
    $('#stats-link').href = `/v1/stats?${qs([...filters, ['group_by', 'country']])}`;
    for (const format of ['csv', 'geojson', 'ndjson']) {
      $(`#export-${format}`).href = `/v1/incidents?${query([['format', format]])}`;
    }
  }

  // ---------------------------------------------------------------- the table

  const rowsBody = $('#rows');
  const tableLatest = latest({ first: true });
  const pages = { cursors: [null], index: 0, next: null, total: null };

  const DATE_PRECISION = { day: 'day', week: 'week', month: 'month', year: 'year' };

  function dateText(incident) {
    const on = incident.occurred_on;
    const until = incident.occurred_until;
    switch (incident.date_precision) {
      case 'year': return on.slice(0, 4);
      case 'month': return on.slice(0, 7);
      case 'week': return `week of ${on}`;
      default: return until && until !== on ? `${on} – ${until}` : on;
    }
  }

  /** Killed or injured as shown: the best figure, with its low–high bounds where they say
      more (`8–?`: at least 8, no upper figure), `?` when unknown. */
  function bounds(figures) {
    const { low = null, best = null, high = null } = figures || {};
    const title = `low ${number(low)} · best ${number(best)} · high ${number(high)}`;
    if (low === null && high === null) return { main: number(best), range: '', title };
    const span = `${number(low)}–${number(high)}`;
    if (low === high && low !== null && (best === null || best === low)) return { main: number(low), range: '', title };
    if (best === null || best === low || best === high) return { main: span, range: '', title };
    return { main: number(best), range: span, title };
  }

  function boundsCell(figures, className) {
    const shown = bounds(figures);
    return el('td', { class: `num ${className || ''}`, title: shown.title },
      shown.main, shown.range ? el('span', { class: 'range', text: `(${shown.range})` }) : null);
  }

  function placeParts(location) {
    const local = [location.place, location.admin2, location.admin1].filter(Boolean);
    const unique = local.filter((part, i) => local.indexOf(part) === i);
    const country = location.country || countryName(location.country_code || '') || '';
    return { main: unique.slice(0, 2).join(', ') || country || 'unknown place', country: unique.length ? country : '' };
  }

  const claimBadge = (claim) => el('span', { class: `badge ${claim}`, text: claim });

  function incidentRow(incident) {
    const place = placeParts(incident.location || {});
    const precision = (incident.location || {}).geo_precision;
    const link = el('a', {
      class: 'open',
      href: pageURL({ ...state, incident: String(incident.id) }),
      text: dateText(incident),
      onclick: (event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        openIncident(incident.id);
      },
    });
    const row = el('tr', { 'data-testid': 'incident-row', 'data-id': incident.id, 'data-country': (incident.location || {}).country_code },
      el('td', {}, link, el('small', { text: DATE_PRECISION[incident.date_precision] || incident.date_precision })),
      el('td', {}, place.main, el('small', { text: [place.country, precision && `${precision} location`].filter(Boolean).join(' · ') })),
      el('td', { class: 'col-event' }, incident.event_type || '—',
        incident.sub_event_type ? el('small', { text: incident.sub_event_type }) : null),
      boundsCell(incident.casualties.killed),
      boundsCell(incident.casualties.injured),
      el('td', { class: 'col-perpetrators' }, ...(incident.perpetrators.length
        ? incident.perpetrators.map((p) => el('span', { class: 'perp' }, p.name, claimBadge(p.claim)))
        : ['—'])),
      el('td', { class: 'num col-sources', text: incident.sources.length }),
    );
    row.addEventListener('click', (event) => {
      if (!event.target.closest('a')) openIncident(incident.id);
    });
    return row;
  }

  /** The number of matches; null when the API could not answer. */
  function renderCount(total) {
    const count = $('#result-count');
    count.textContent = total === null ? '–' : number(total);
    if (total === null) delete count.dataset.count;
    else count.dataset.count = total;
    $('#result-label').textContent = total === 1 ? 'incident' : 'incidents';
  }

  function renderPager(rows) {
    const first = pages.index * PAGE_SIZE + 1;
    $('#page-first').disabled = pages.index === 0;
    $('#page-prev').disabled = pages.index === 0;
    $('#page-next').disabled = !pages.next;
    $('#page-info').textContent = rows
      ? `Rows ${number(first)}–${number(first + rows - 1)}${pages.total === null ? '' : ` of ${number(pages.total)}`}`
      : 'No rows';
  }

  async function loadTable(reset) {
    if (reset) {
      pages.cursors = [null];
      pages.index = 0;
    }
    const cursor = pages.cursors[pages.index];
    const params = [...apiParams(), ['sort', state.sort], ['limit', PAGE_SIZE]];
    params.push(cursor ? ['cursor', cursor] : ['count', 'true']);
    rowsBody.classList.add('loading');
    try {
      const page = await tableLatest(`/v1/incidents?${qs(params)}`);
      if (!cursor) {
        pages.total = page.total;
        renderCount(page.total);
      }
      pages.next = page.next_cursor;
      rowsBody.replaceChildren(...page.data.map(incidentRow));
      if (!page.data.length) {
        rowsBody.append(el('tr', { class: 'empty' }, el('td', { colspan: 7, text: 'No incident matches these filters.' })));
      }
      renderPager(page.data.length);
      rowsBody.classList.remove('loading');
    } catch (error) {
      if (error === STALE) return;
      rowsBody.classList.remove('loading');
      if (!cursor) renderCount(null);
      showProblem(error);
    }
  }

  function turnPage(index) {
    pages.index = index;
    loadTable(false);
    $('#results').focus({ preventScroll: true });
  }

  $('#page-first').addEventListener('click', () => turnPage(0));
  $('#page-prev').addEventListener('click', () => turnPage(Math.max(0, pages.index - 1)));
  $('#page-next').addEventListener('click', () => {
    if (!pages.next) return;
    pages.cursors[pages.index + 1] = pages.next;
    turnPage(pages.index + 1);
  });

  const SORT_ORDERS = { occurred_on: ['-occurred_on', 'occurred_on'], killed: ['-killed', 'killed'] };

  function syncSortHeaders() {
    for (const header of document.querySelectorAll('th[data-sort]')) {
      const [descending, ascending] = SORT_ORDERS[header.dataset.sort];
      const order = state.sort === descending ? 'descending' : state.sort === ascending ? 'ascending' : 'none';
      header.setAttribute('aria-sort', order);
    }
  }

  for (const header of document.querySelectorAll('th[data-sort]')) {
    header.querySelector('button').addEventListener('click', () => {
      const [descending, ascending] = SORT_ORDERS[header.dataset.sort];
      navigate(state.filters, { sort: state.sort === descending ? ascending : descending, fit: false });
    });
  }

  // ---------------------------------------------------------------- the incident view

  const dialog = $('#incident');
  const incidentLatest = latest({ first: true });

  function openIncident(id) {
    navigate(state.filters, { incident: String(id), fit: false });
  }

  /** Opens or closes the incident view as the state says. */
  function syncIncident() {
    if (!state.incident) {
      if (dialog.open) dialog.close();
      return;
    }
    if (!dialog.open) dialog.showModal();
    if (dialog.dataset.id === state.incident) return;
    dialog.dataset.id = state.incident;
    $('#incident-title').textContent = `Incident ${state.incident}`;
    $('#incident-body').replaceChildren(el('p', { text: 'Loading…' }));
    incidentLatest(`/v1/incidents/${encodeURIComponent(state.incident)}`)
      .then(renderIncident)
      .catch((error) => {
        if (error === STALE) return;
        $('#incident-body').replaceChildren(el('p', { class: 'problem', text: error.message }));
      });
  }

  function closeIncident() {
    delete dialog.dataset.id;
    if (state.incident) navigate(state.filters, { fit: false });
  }

  dialog.addEventListener('close', closeIncident);
  $('#incident-close').addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });

  const definitions = (pairs) => el('dl', {}, ...pairs
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .flatMap(([term, value]) => [el('dt', { text: term }), el('dd', {}, value)]));

  const safeURL = (url) => (typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null);

  function sourceItem(source) {
    const title = source.title || source.url || 'untitled source';
    const url = safeURL(source.url);
    return el('li', { 'data-testid': 'incident-source' },
      url ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank', text: title }) : title,
      [source.publisher, source.published_on].some(Boolean)
        ? ` — ${[source.publisher, source.published_on].filter(Boolean).join(', ')}` : '',
      source.excerpt ? el('blockquote', { text: source.excerpt }) : null);
  }

  function casualtyTable(casualties) {
    const cell = (value) => el('td', { class: 'num', text: value === null || value === undefined ? 'unknown' : number(value) });
    return el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}), el('th', { class: 'num', text: 'low' }),
        el('th', { class: 'num', text: 'best' }), el('th', { class: 'num', text: 'high' }))),
      el('tbody', {}, ...['killed', 'injured'].map((kind) => {
        const figures = casualties[kind] || {};
        return el('tr', {}, el('th', { scope: 'row', text: kind }), cell(figures.low), cell(figures.best), cell(figures.high));
      })));
  }

  function renderIncident(incident) {
    const location = incident.location || {};
    const coordinates = location.latitude === null || location.latitude === undefined
      ? null : `${location.latitude}, ${location.longitude}`;
    $('#incident-title').textContent = `${incident.event_type || 'Incident'} · ${dateText(incident)}`;
    const attributes = Object.entries(incident.attributes || {})
      .map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]);
    const perpetrators = incident.perpetrators.map((p) => el('li', {},
      el('a', { href: pageURL({ filters: { perpetrator: p.name }, sort: DEFAULT_SORT }), text: p.name }),
      claimBadge(p.claim)));
    $('#incident-body').replaceChildren(...[
      incident.description ? el('p', { text: incident.description }) : null,
      el('h3', { text: 'When' }),
      definitions([['occurred on', incident.occurred_on], ['until', incident.occurred_until],
        ['precision', incident.date_precision]]),
      el('h3', { text: 'Where' }),
      definitions([['country', [location.country, location.country_code].filter(Boolean).join(' · ')],
        ['region', [location.region, location.subregion].filter(Boolean).join(' › ')],
        ['source region', location.source_region], ['admin1', location.admin1], ['admin2', location.admin2],
        ['place', location.place], ['coordinates', coordinates], ['location precision', location.geo_precision]]),
      el('h3', { text: 'What' }),
      definitions([['event type', incident.event_type], ['sub-event type', incident.sub_event_type]]),
      el('h3', { text: 'Casualties' }),
      casualtyTable(incident.casualties || {}),
      el('h3', { text: 'Perpetrators and claims' }),
      perpetrators.length ? el('ul', {}, ...perpetrators) : el('p', { text: 'None named.' }),
      el('h3', { text: `Sources (${incident.sources.length})` }),
      incident.sources.length
        ? el('ul', { 'data-testid': 'incident-sources' }, ...incident.sources.map(sourceItem))
        : el('p', { 'data-testid': 'incident-sources', text: 'No source recorded.' }),
      attributes.length ? el('h3', { text: 'Attributes (as the dataset gives them)' }) : null,
      attributes.length ? definitions(attributes) : null,
      el('h3', { text: 'Record' }),
      definitions([['id', String(incident.id)], ['dataset', incident.dataset], ['external id', incident.external_id],
        ['version', String(incident.version)], ['created', incident.created_at], ['updated', incident.updated_at],
        ['in the API', el('a', { href: `/v1/incidents/${incident.id}`, text: `/v1/incidents/${incident.id}` })]]),
      el('h3', { text: 'History' }),
      historySection(incident.id),
    ].filter(Boolean));
  }

  /** The fields (two levels deep, as imports compare them) that differ between two versions. */
  function changedFields(before, after) {
    const flat = (value, prefix = '', depth = 1) => Object.entries(value || {}).flatMap(([key, v]) =>
      v && typeof v === 'object' && !Array.isArray(v) && depth < 2 && key !== 'attributes'
        ? flat(v, `${prefix}${key}.`, depth + 1) : [[`${prefix}${key}`, JSON.stringify(v)]]);
    const skip = new Set(['version', 'created_at', 'updated_at']);
    const a = new Map(flat(before)); const b = new Map(flat(after));
    return [...new Set([...a.keys(), ...b.keys()])].filter((k) => !skip.has(k) && a.get(k) !== b.get(k));
  }

  /** Every version of the incident: when, how, by whom, why, and what changed. */
  function historySection(id) {
    const list = el('ol', { 'data-testid': 'incident-history', class: 'history' }, el('li', { text: 'Loading…' }));
    getJSON(`/v1/incidents/${encodeURIComponent(id)}/history`).then((history) => {
      list.replaceChildren(...history.data.map((version, i) => {
        const previous = i > 0 ? history.data[i - 1].incident : null;
        const fields = previous ? changedFields(previous, version.incident) : [];
        return el('li', {},
          el('a', { href: `/v1/incidents/${encodeURIComponent(id)}?version=${version.version}`, text: `version ${version.version}` }),
          ` · ${version.change} · ${version.changed_by || 'unknown'} · ${version.valid_from.slice(0, 19).replace('T', ' ')} UTC`,
          version.reason ? el('q', { text: version.reason }) : null,
          fields.length ? el('div', { class: 'history-fields', text: `changed: ${fields.join(', ')}` }) : null);
      }), ...(history.next_cursor ? [el('li', {},
        el('a', { href: `/v1/incidents/${encodeURIComponent(id)}/history?cursor=${encodeURIComponent(history.next_cursor)}`, text: 'later versions (API)' }))] : []));
    }).catch((error) => list.replaceChildren(el('li', { class: 'problem', text: error.message })));
    return list;
  }

  // ---------------------------------------------------------------- facets

  const FACETS = {
    region: { groupBy: 'region,subregion', none: 'no region' },
    country: { groupBy: 'country', none: 'no country code' },
    perpetrator: { groupBy: 'perpetrator', none: 'none named' },
    claim: { groupBy: 'claim', none: 'no perpetrator' },
    event_type: { groupBy: 'event_type', none: 'no event type' },
    dataset: { groupBy: 'dataset', none: 'none' },
  };
  const facetRows = {};
  const facetLatest = Object.fromEntries(Object.keys(FACETS).map((field) => [field, latest()]));

  /** The facet's entries, largest first: `{value, label, count, depth}`, and the null group. */
  function facetEntries(field, rows) {
    if (field === 'region') return regionEntries(rows);
    const key = FACETS[field].groupBy;
    const entries = rows.filter((r) => r.group[key] !== null).map((r) => ({
      value: r.group[key],
      label: field === 'country' ? `${countryName(r.group[key])} (${r.group[key]})` : r.group[key],
      count: r.incidents,
      depth: 0,
    }));
    entries.sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
    const none = rows.find((r) => r.group[key] === null);
    return { entries, none: none ? none.incidents : 0 };
  }

  /** Regions with their sub-regions under them (named regions hold several). */
  function regionEntries(rows) {
    const regions = new Map();
    let none = 0;
    for (const row of rows) {
      const { region, subregion } = row.group;
      if (region === null) {
        none += row.incidents;
        continue;
      }
      const entry = regions.get(region) || { count: 0, subregions: new Map() };
      entry.count += row.incidents;
      if (subregion !== null) entry.subregions.set(subregion, (entry.subregions.get(subregion) || 0) + row.incidents);
      regions.set(region, entry);
    }
    const byCount = (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]);
    const entries = [...regions].map(([name, entry]) => [name, entry.count, entry.subregions]).sort(byCount)
      .flatMap(([name, count, subregions]) => [
        { value: name, label: name, count, depth: 0 },
        ...[...subregions].sort(byCount).filter(([sub]) => sub !== name)
          .map(([sub, n]) => ({ value: sub, label: sub, count: n, depth: 1 })),
      ]);
    return { entries, none };
  }

  function isSelected(field, value) {
    const key = field === 'country' ? countryKey : (v) => v.toLowerCase();
    return split(state.filters[field]).some((v) => key(v) === key(value));
  }

  function toggle(field, value) {
    const key = field === 'country' ? countryKey : (v) => v.toLowerCase();
    const values = split(state.filters[field]);
    const kept = values.filter((v) => key(v) !== key(value));
    withFilter(field, (kept.length === values.length ? [...values, value] : kept).join(','));
  }

  function renderFacet(field) {
    const rows = facetRows[field];
    if (!rows) return;
    const { entries, none } = facetEntries(field, rows);
    const list = $(`[data-testid="facet-${field}"] ul`);
    const largest = Math.max(1, ...entries.map((e) => e.count));
    const items = entries.slice(0, 200).map((entry) => {
      const pressed = isSelected(field, entry.value);
      const button = el('button', {
        type: 'button',
        'aria-pressed': String(pressed),
        'data-value': entry.value,
        title: `${entry.label}: ${number(entry.count)} incidents`,
        onclick: () => toggle(field, entry.value),
      }, el('span', { class: 'label', text: entry.label }), el('span', { class: 'n', text: number(entry.count) }));
      button.style.setProperty('--share', `${(100 * entry.count / largest).toFixed(1)}%`);
      return el('li', { class: entry.depth ? 'sub' : null }, button);
    });
    if (none) {
      items.push(el('li', { class: 'none' }, el('span', { text: FACETS[field].none }), el('span', { text: number(none) })));
    }
    if (!items.length) items.push(el('li', { class: 'none' }, el('span', { text: 'no matches' })));
    list.replaceChildren(...items);
    // The facet's values suggest the field's values, unless one is typing there.
    if (field !== 'region' && field !== 'country' && field !== 'claim' && document.activeElement !== input(field)) {
      fillList(field, entries.map((e) => e.value));
    }
  }

  async function loadFacet(field) {
    const list = $(`[data-testid="facet-${field}"]`);
    const params = [...apiParams([field]), ['group_by', FACETS[field].groupBy]];
    list.setAttribute('aria-busy', 'true');
    try {
      const stats = await facetLatest[field](`/v1/stats?${qs(params)}`);
      facetRows[field] = stats.data;
      renderFacet(field);
    } catch (error) {
      showProblem(error);
    }
    list.removeAttribute('aria-busy');
  }

  // ---------------------------------------------------------------- the timeline

  const timelineBox = $('#timeline');
  const timelineLatest = latest();
  let timeline = { unit: 'month', periods: [], loaded: false };

  const MONTHS_AT_MOST = 600;

  function monthsBetween(first, last) {
    const months = [];
    let [year, month] = first.split('-').map(Number);
    const [lastYear, lastMonth] = last.split('-').map(Number);
    while (year < lastYear || (year === lastYear && month <= lastMonth)) {
      months.push(`${year}-${String(month).padStart(2, '0')}`);
      month += 1;
      if (month > 12) {
        month = 1;
        year += 1;
      }
    }
    return months;
  }

  function yearsBetween(first, last) {
    const years = [];
    for (let year = Number(first); year <= Number(last); year += 1) years.push(String(year).padStart(4, '0'));
    return years;
  }

  async function loadTimeline() {
    timelineBox.setAttribute('aria-busy', 'true');
    try {
      let unit = 'month';
      let stats = await timelineLatest(`/v1/stats?${qs([...apiParams(['from', 'to']), ['group_by', 'month']])}`);
      let rows = stats.data.filter((r) => r.group.month);
      if (rows.length && monthsBetween(rows[0].group.month, rows[rows.length - 1].group.month).length > MONTHS_AT_MOST) {
        unit = 'year';
        stats = await timelineLatest(`/v1/stats?${qs([...apiParams(['from', 'to']), ['group_by', 'year']])}`);
        rows = stats.data.filter((r) => r.group.year);
      }
      const byPeriod = new Map(rows.map((r) => [r.group[unit], r]));
      const keys = rows.length
        ? (unit === 'month' ? monthsBetween : yearsBetween)(rows[0].group[unit], rows[rows.length - 1].group[unit])
        : [];
      timeline = { unit, periods: keys.map((key) => ({ key, row: byPeriod.get(key) || null })), loaded: true };
      renderTimeline();
    } catch (error) {
      if (error !== STALE) showProblem(error);
    }
    timelineBox.removeAttribute('aria-busy');
  }

  /** The periods the `from`/`to` filters select, as indexes into the timeline. */
  function selectedPeriods() {
    const { from, to } = state.filters;
    if (!from && !to) return null;
    const width = timeline.unit === 'month' ? 7 : 4;
    const start = from ? from.slice(0, width) : '';
    const end = to ? to.slice(0, width) : '\uffff';
    const indexes = timeline.periods.map((p, i) => (p.key >= start && p.key <= end ? i : -1)).filter((i) => i >= 0);
    return indexes.length ? [indexes[0], indexes[indexes.length - 1]] : null;
  }

  const MARGIN = { left: 44, right: 44, top: 8, bottom: 20 };

  function renderTimeline() {
    if (!timeline.loaded) return;
    const width = timelineBox.clientWidth;
    const height = timelineBox.clientHeight;
    const periods = timeline.periods;
    const chart = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'true' });
    timelineBox.replaceChildren(chart);
    if (!periods.length || width < 100) {
      chart.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'axis', text: 'No dated incidents match.' }));
      timelineBox.setAttribute('aria-label', 'Timeline: no dated incidents match');
      return;
    }
    const plotWidth = width - MARGIN.left - MARGIN.right;
    const plotHeight = height - MARGIN.top - MARGIN.bottom;
    const step = plotWidth / periods.length;
    const x = (i) => MARGIN.left + i * step;
    const most = Math.max(1, ...periods.map((p) => (p.row ? p.row.incidents : 0)));
    const killedOf = (p, bound) => (p.row ? p.row.killed[bound] : null);
    const mostKilled = Math.max(1, ...periods.flatMap((p) => [killedOf(p, 'high'), killedOf(p, 'best')].filter((v) => v !== null)));
    const yBars = (n) => MARGIN.top + plotHeight * (1 - n / most);
    const yKilled = (n) => MARGIN.top + plotHeight * (1 - n / mostKilled);
    const selected = selectedPeriods();
    if (selected) {
      chart.append(svg('rect', { class: 'selected', x: x(selected[0]), y: MARGIN.top, width: (selected[1] - selected[0] + 1) * step, height: plotHeight }));
    }
    periods.forEach((period, i) => {
      if (!period.row) return;
      const out = selected && (i < selected[0] || i > selected[1]);
      const killed = bounds(period.row.killed);
      chart.append(svg('rect', {
        class: out ? 'bar out' : 'bar',
        x: x(i) + (step > 3 ? 0.5 : 0),
        y: yBars(period.row.incidents),
        width: Math.max(0.5, step - (step > 3 ? 1 : 0)),
        height: plotHeight * period.row.incidents / most,
      }, svg('title', { text: `${period.key}: ${number(period.row.incidents)} incidents, ${killed.main}${killed.range ? ` (${killed.range})` : ''} killed` })));
    });
    // The low–high band of killed, then the best figure as a line; a period whose figure
    // nobody knows breaks both instead of reading as 0.
    for (const run of killedRuns(periods)) {
      const at = ({ i }) => (x(i) + step / 2).toFixed(1);
      const top = run.map((p) => `${at(p)},${yKilled(p.high).toFixed(1)}`);
      const bottom = run.slice().reverse().map((p) => `${at(p)},${yKilled(p.low).toFixed(1)}`);
      if (run.length > 1) {
        chart.append(svg('polygon', { class: 'band', points: [...top, ...bottom].join(' ') }));
        chart.append(svg('polyline', { class: 'killed', points: run.map((p) => `${at(p)},${yKilled(p.best).toFixed(1)}`).join(' ') }));
      } else {
        chart.append(svg('line', { class: 'band-line', x1: at(run[0]), x2: at(run[0]), y1: yKilled(run[0].high).toFixed(1), y2: yKilled(run[0].low).toFixed(1) }));
        chart.append(svg('circle', { class: 'killed-dot', cx: at(run[0]), cy: yKilled(run[0].best).toFixed(1), r: 2 }));
      }
    }
    chart.append(timelineAxis(periods, x, step, plotHeight, most, mostKilled));
    const first = periods[0].key;
    const last = periods[periods.length - 1].key;
    timelineBox.setAttribute('aria-label', `Timeline from ${first} to ${last}: at most ${number(most)} incidents and ${number(mostKilled)} killed in a ${timeline.unit}`);
  }

  /** Runs of consecutive periods whose best killed figure is known, with its bounds (a bound
      nobody gave is the best figure). */
  function killedRuns(periods) {
    const runs = [];
    let run = [];
    periods.forEach((period, i) => {
      const killed = period.row ? period.row.killed : null;
      if (!killed || killed.best === null) {
        if (run.length) runs.push(run);
        run = [];
        return;
      }
      const low = Math.min(killed.low ?? killed.best, killed.best);
      const high = Math.max(killed.high ?? killed.best, killed.best);
      run.push({ i, low, best: killed.best, high });
    });
    if (run.length) runs.push(run);
    return runs;
  }

  function timelineAxis(periods, x, step, plotHeight, most, mostKilled) {
    const axis = svg('g', { class: 'axis' });
    const bottom = MARGIN.top + plotHeight;
    axis.append(svg('line', { x1: MARGIN.left, x2: x(periods.length), y1: bottom, y2: bottom }));
    axis.append(svg('text', { x: MARGIN.left - 4, y: MARGIN.top + 8, 'text-anchor': 'end', text: short(most) }));
    axis.append(svg('text', { x: MARGIN.left - 4, y: bottom, 'text-anchor': 'end', text: '0' }));
    axis.append(svg('text', { x: x(periods.length) + 4, y: MARGIN.top + 8, 'text-anchor': 'start', fill: '#b3261e', text: short(mostKilled) }));
    const years = timeline.unit === 'month' ? periods.length / 12 : periods.length;
    const room = Math.max(1, Math.floor((x(periods.length) - MARGIN.left) / 40));
    const every = [1, 2, 5, 10, 20, 50, 100].find((n) => years / n <= room) || 100;
    periods.forEach((period, i) => {
      const year = Number(period.key.slice(0, 4));
      const starts = timeline.unit === 'year' || period.key.endsWith('-01') || i === 0;
      if (!starts || year % every !== 0) return;
      axis.append(svg('line', { x1: x(i), x2: x(i), y1: bottom, y2: bottom + 4 }));
      axis.append(svg('text', { x: x(i) + 2, y: bottom + 15, text: String(year) }));
    });
    return axis;
  }

  /** The timeline's brush: drag across it to set `from` and `to`; a click takes one period. */
  function periodAt(clientX) {
    const box = timelineBox.getBoundingClientRect();
    const step = (box.width - MARGIN.left - MARGIN.right) / Math.max(1, timeline.periods.length);
    const i = Math.floor((clientX - box.left - MARGIN.left) / step);
    return Math.min(timeline.periods.length - 1, Math.max(0, i));
  }

  let brush = null;
  timelineBox.addEventListener('pointerdown', (event) => {
    if (!timeline.periods.length || event.button !== 0) return;
    timelineBox.setPointerCapture(event.pointerId);
    brush = { start: periodAt(event.clientX), end: periodAt(event.clientX) };
    drawBrush();
  });
  timelineBox.addEventListener('pointermove', (event) => {
    if (!brush) return;
    brush.end = periodAt(event.clientX);
    drawBrush();
  });
  timelineBox.addEventListener('pointerup', () => {
    if (!brush) return;
    const [first, last] = [brush.start, brush.end].sort((a, b) => a - b);
    brush = null;
    navigate({ ...state.filters, from: timeline.periods[first].key, to: timeline.periods[last].key });
  });
  timelineBox.addEventListener('pointercancel', () => {
    brush = null;
    renderTimeline();
  });
  timelineBox.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && (state.filters.from || state.filters.to)) {
      navigate({ ...state.filters, from: '', to: '' });
    }
  });

  function drawBrush() {
    const chart = timelineBox.querySelector('svg');
    if (!chart) return;
    const step = (timelineBox.clientWidth - MARGIN.left - MARGIN.right) / timeline.periods.length;
    const [first, last] = [brush.start, brush.end].sort((a, b) => a - b);
    let rect = chart.querySelector('.brush');
    if (!rect) {
      rect = svg('rect', { class: 'brush', y: MARGIN.top, height: timelineBox.clientHeight - MARGIN.top - MARGIN.bottom });
      chart.append(rect);
    }
    rect.setAttribute('x', MARGIN.left + first * step);
    rect.setAttribute('width', (last - first + 1) * step);
  }

  // ---------------------------------------------------------------- the map

  const mapBox = $('#map');
  const basemap = $('#basemap');
  const clusterLayer = $('#clusters');
  const mapLatest = latest({ first: true });

  /** Web Mercator onto a square of WORLD units. */
  const WORLD = 1000;
  const MAX_LAT = 85.0511;
  const MAX_ZOOM = 4096;
  const mercX = (lon) => ((lon + 180) / 360) * WORLD;
  const mercY = (lat) => {
    const phi = (Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 180;
    return ((1 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / Math.PI) / 2) * WORLD;
  };
  const lonOf = (x) => (x / WORLD) * 360 - 180;
  const latOf = (y) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / WORLD))) * 180) / Math.PI;

  const view = { x: WORLD / 2, y: mercY(22), k: 1 };
  const mapSize = () => ({ w: mapBox.clientWidth || 1, h: mapBox.clientHeight || 1 });
  const pixelsPerUnit = () => (view.k * mapSize().w) / WORLD;

  function clampView() {
    view.k = Math.max(1, Math.min(MAX_ZOOM, view.k));
    const { w, h } = mapSize();
    const s = pixelsPerUnit();
    const halfW = w / 2 / s;
    const halfH = h / 2 / s;
    view.x = Math.max(halfW, Math.min(WORLD - halfW, view.x));
    view.y = halfH * 2 >= WORLD ? WORLD / 2 : Math.max(halfH, Math.min(WORLD - halfH, view.y));
  }

  /** The visible area in degrees. */
  function visibleArea(margin = 0) {
    const { w, h } = mapSize();
    const s = pixelsPerUnit();
    const halfW = (w / 2 / s) * (1 + margin);
    const halfH = (h / 2 / s) * (1 + margin);
    return {
      west: Math.max(-180, lonOf(view.x - halfW)),
      east: Math.min(180, lonOf(view.x + halfW)),
      north: Math.min(MAX_LAT, latOf(Math.max(0, view.y - halfH))),
      south: Math.max(-MAX_LAT, latOf(Math.min(WORLD, view.y + halfH))),
    };
  }

  const round = (degrees) => Number(degrees.toFixed(4));
  const bboxText = (area) => [area.west, area.south, area.east, area.north].map(round).join(',');

  function parseBbox(text) {
    const n = split(text).map(Number);
    if (n.length !== 4 || n.some((v) => !Number.isFinite(v))) return null;
    return { west: n[0], south: n[1], east: n[2], north: n[3] };
  }

  function intersect(a, b) {
    if (!b) return a;
    if (b.west > b.east) return b; // across the antimeridian: the filter's own box
    const area = {
      west: Math.max(a.west, b.west), east: Math.min(a.east, b.east),
      south: Math.max(a.south, b.south), north: Math.min(a.north, b.north),
    };
    return area.west < area.east && area.south < area.north ? area : null;
  }

  /** Fits the view to an area (with a margin); the whole world for one across the antimeridian. */
  function fitTo(area) {
    if (!area || area.west > area.east) {
      Object.assign(view, { x: WORLD / 2, y: mercY(22), k: 1 });
      clampView();
      return;
    }
    const { w, h } = mapSize();
    const x0 = mercX(area.west);
    const x1 = mercX(area.east);
    const y0 = mercY(area.north);
    const y1 = mercY(area.south);
    const s = Math.min(w / Math.max(x1 - x0, 1e-6), h / Math.max(y1 - y0, 1e-6)) * 0.85;
    view.k = Math.min(512, (s * WORLD) / w);
    view.x = (x0 + x1) / 2;
    view.y = (y0 + y1) / 2;
    clampView();
  }

  /** Cell sides the map asks for: a cluster covers about 36 pixels. */
  const CELL_SIZES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];
  const WORLD_CELL = Number($('#map').dataset.worldCell) || 15;
  const cellSizeFor = (k) => {
    const degrees = (36 * 360) / (k * mapSize().w);
    return CELL_SIZES.find((size) => size >= degrees) || CELL_SIZES[CELL_SIZES.length - 1];
  };

  // The basemap: Natural Earth countries from world-atlas (TopoJSON), projected once into
  // world units; panning and zooming only move the SVG's viewBox.
  let basemapDetail = null;
  const basemapRequests = {};

  function decodeArcs(topology) {
    const [sx, sy] = topology.transform.scale;
    const [tx, ty] = topology.transform.translate;
    return topology.arcs.map((arc) => {
      let x = 0;
      let y = 0;
      return arc.map(([dx, dy]) => {
        x += dx;
        y += dy;
        return [x * sx + tx, y * sy + ty];
      });
    });
  }

  /** A ring as an SVG path. A ring across the antimeridian (Fiji, Chukotka) is unwrapped
      into longitudes beyond ±180, so it is not drawn as a line across the whole world. */
  function ringPath(indexes, arcs) {
    const points = [];
    indexes.forEach((index, n) => {
      const arc = index < 0 ? arcs[~index].slice().reverse() : arcs[index];
      points.push(...(n ? arc.slice(1) : arc));
    });
    let shift = 0;
    let previous = points[0][0];
    const xy = points.map(([lon, lat]) => {
      if (lon - previous > 180) shift -= 360;
      else if (previous - lon > 180) shift += 360;
      previous = lon;
      return `${mercX(lon + shift).toFixed(2)},${mercY(lat).toFixed(2)}`;
    });
    return `M${xy.join('L')}Z`;
  }

  function countryPaths(topology) {
    const arcs = decodeArcs(topology);
    return topology.objects.countries.geometries.map((geometry) => {
      const polygons = geometry.type === 'Polygon' ? [geometry.arcs] : geometry.type === 'MultiPolygon' ? geometry.arcs : [];
      return svg('path', { d: polygons.flatMap((rings) => rings.map((ring) => ringPath(ring, arcs))).join('') });
    });
  }

  /** Draws the countries at `detail` (`110m` for the world, `50m` once zoomed in). */
  async function loadBasemap(detail) {
    if (basemapRequests[detail]) return;
    basemapRequests[detail] = true;
    const topology = await getJSON(`/web/countries-${detail}.json`);
    if (basemapDetail === '50m') return;
    basemapDetail = detail;
    const countriesLayer = svg('g', { class: 'countries' }, ...countryPaths(topology));
    const old = basemap.querySelector('.countries');
    if (old) old.replaceWith(countriesLayer);
    else basemap.prepend(countriesLayer);
  }

  function drawFilterBox() {
    const old = basemap.querySelector('.bbox');
    if (old) old.remove();
    const area = parseBbox(state.filters.bbox);
    if (!area || area.west > area.east) return;
    basemap.append(svg('rect', {
      class: 'bbox', x: mercX(area.west), y: mercY(area.north),
      width: mercX(area.east) - mercX(area.west), height: mercY(area.south) - mercY(area.north),
    }));
  }

  let frame = 0;
  function renderView() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const { w, h } = mapSize();
      const s = pixelsPerUnit();
      basemap.setAttribute('viewBox', `${view.x - w / 2 / s} ${view.y - h / 2 / s} ${w / s} ${h / s}`);
      renderClusters();
      if (view.k >= 4) loadBasemap('50m').catch(showProblem);
    });
  }

  // Clusters: the server's grid cells, drawn at the mean position of their incidents, exact
  // and place-level locations apart from admin-area and country-level ones.
  const PRECISE = new Set(['exact', 'place', 'near']);
  let cells = { rows: [], size: 1 };

  function clusterGroups(rows) {
    const groups = new Map();
    for (const row of rows) {
      if (row.group.cell === null) continue;
      const kind = PRECISE.has(row.group.geo_precision) ? 'exact' : 'area';
      const key = `${row.group.cell}|${kind}`;
      const group = groups.get(key) || { cell: row.group.cell, kind, incidents: 0, lat: 0, lon: 0, killed: { low: null, best: null, high: null, unknown: 0 } };
      group.lat += row.latitude * row.incidents;
      group.lon += row.longitude * row.incidents;
      group.incidents += row.incidents;
      for (const bound of ['low', 'best', 'high']) {
        if (row.killed[bound] !== null) group.killed[bound] = (group.killed[bound] || 0) + row.killed[bound];
      }
      group.killed.unknown += row.killed.unknown;
      groups.set(key, group);
    }
    return [...groups.values()].map((g) => ({ ...g, lat: g.lat / g.incidents, lon: g.lon / g.incidents }));
  }

  function clusterLabel(group) {
    const killed = bounds(group.killed);
    const where = group.kind === 'exact' ? 'at exact or place-level locations' : 'located only to an admin area or country';
    const unknown = group.killed.unknown ? `, ${number(group.killed.unknown)} with killed unknown` : '';
    return `${number(group.incidents)} incidents ${where}; killed ${killed.main}${killed.range ? ` (${killed.range})` : ''}${unknown}. Select to zoom in.`;
  }

  function renderClusters() {
    const { w, h } = mapSize();
    const s = pixelsPerUnit();
    const groups = clusterGroups(cells.rows).sort((a, b) => b.incidents - a.incidents);
    const most = Math.max(1, ...groups.map((g) => g.incidents));
    const nodes = [];
    for (const group of groups) {
      const px = (mercX(group.lon) - view.x) * s + w / 2;
      const py = (mercY(group.lat) - view.y) * s + h / 2;
      if (px < -40 || py < -40 || px > w + 40 || py > h + 40) continue;
      const r = 5 + 13 * Math.sqrt(group.incidents / most);
      nodes.push(svg('g', {
        class: `cluster ${group.kind}`,
        tabindex: 0,
        role: 'button',
        'aria-label': clusterLabel(group),
        'data-cell': group.cell,
        onclick: () => zoomToCell(group.cell),
        onkeydown: (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            zoomToCell(group.cell);
          }
        },
      }, svg('title', { text: clusterLabel(group) }),
      svg('circle', { cx: px.toFixed(1), cy: py.toFixed(1), r: r.toFixed(1) }),
      r >= 10 ? svg('text', { x: px.toFixed(1), y: py.toFixed(1), text: short(group.incidents) }) : null));
    }
    // Smaller clusters on top, so none hides under a larger one.
    clusterLayer.replaceChildren(...nodes);
    mapBox.dataset.clusters = nodes.length;
  }

  function zoomToCell(cell) {
    fitTo(parseBbox(cell));
    renderView();
    loadCells(false);
  }

  let cellsQuery = '';
  const unmapped = new Map();

  /** Loads the clusters. `fit` (after the filters change): first the whole world's coarse
      cells, to fit the view to where the matches are; then the cells of that view. */
  async function loadCells(fit, refinements = 2) {
    const filterArea = parseBbox(state.filters.bbox);
    if (fit && filterArea) {
      fitTo(filterArea);
      renderView();
      fit = false;
    }
    const params = apiParams();
    // The whole world at the size the server keeps warm; closer views by their zoom.
    const size = fit ? WORLD_CELL : cellSizeFor(view.k);
    if (!fit && view.k >= 2) {
      const area = intersect(visibleArea(0.5), filterArea);
      if (!area) {
        cells = { rows: [], size };
        renderClusters();
        return;
      }
      const index = params.findIndex(([name]) => name === 'bbox');
      if (index >= 0) params.splice(index, 1);
      params.push(['bbox', bboxText(area)]);
    }
    params.push(['group_by', 'cell,geo_precision'], ['cell', size]);
    const query = qs(params);
    if (!fit && query === cellsQuery) {
      renderView();
      mapBox.removeAttribute('aria-busy');
      return;
    }
    mapBox.setAttribute('aria-busy', 'true');
    let stats;
    try {
      stats = await mapLatest(`/v1/stats?${query}`);
    } catch (error) {
      if (error !== STALE) {
        showProblem(error);
        mapBox.removeAttribute('aria-busy');
      }
      return;
    }
    cellsQuery = query;
    cells = { rows: stats.data, size };
    const filters = qs(apiParams());
    if (!params.some(([name]) => name === 'bbox')) {
      const without = stats.data.find((row) => row.group.cell === null);
      unmapped.set(filters, without ? without.incidents : 0);
    }
    renderMapNote(filters);
    mapBox.dataset.query = query;
    mapBox.dataset.incidents = stats.data.filter((r) => r.group.cell !== null).reduce((n, r) => n + r.incidents, 0);
    if (refine(fit, refinements, stats.data)) return loadCells(false, refinements - 1);
    renderView();
    mapBox.removeAttribute('aria-busy');
  }

  /** Fits the view closer to the matches when their cells say it can zoom in by half again
      or more; whether the cells of the new view are needed. The first pass (`fit`) looked at
      the whole world, so it is compared with the whole world. */
  function refine(fit, refinements, rows) {
    if (refinements <= 0 || !(fit || refinements < 2)) return false;
    const extent = extentOf(rows);
    if (!extent) return false;
    const before = { ...view };
    if (fit) fitTo(null);
    const world = view.k;
    fitTo(extent);
    if (view.k > (fit ? world : before.k) * 1.5) {
      renderView();
      return true;
    }
    if (fit) fitTo(null);
    else Object.assign(view, before);
    return false;
  }

  function extentOf(rows) {
    const areas = rows.filter((r) => r.group.cell !== null).map((r) => parseBbox(r.group.cell));
    if (!areas.length) return null;
    return {
      west: Math.min(...areas.map((a) => a.west)), east: Math.max(...areas.map((a) => a.east)),
      south: Math.min(...areas.map((a) => a.south)), north: Math.max(...areas.map((a) => a.north)),
    };
  }

  function renderMapNote(filters) {
    const without = unmapped.get(filters);
    $('#map-note').textContent = without
      ? `${number(without)} matching incidents have no coordinates and are not on the map.`
      : '';
  }

  let viewTimer = 0;
  /** After the user moves the map: redraw now, ask for the new view's cells when they stop. */
  function viewChanged() {
    clampView();
    renderView();
    clearTimeout(viewTimer);
    viewTimer = setTimeout(() => loadCells(false), 250);
  }

  function zoomAt(px, py, factor) {
    const { w, h } = mapSize();
    const s = pixelsPerUnit();
    const wx = view.x + (px - w / 2) / s;
    const wy = view.y + (py - h / 2) / s;
    view.k = Math.max(1, Math.min(MAX_ZOOM, view.k * factor));
    const s2 = pixelsPerUnit();
    view.x = wx - (px - w / 2) / s2;
    view.y = wy - (py - h / 2) / s2;
    viewChanged();
  }

  let drag = null;
  mapBox.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || event.target.closest('button, .cluster')) return;
    mapBox.setPointerCapture(event.pointerId);
    drag = { x: event.clientX, y: event.clientY, vx: view.x, vy: view.y, draw: event.shiftKey, moved: false };
    mapBox.classList.add('dragging');
  });
  mapBox.addEventListener('pointermove', (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.draw) {
      drawRectangle(drag, event);
      return;
    }
    const s = pixelsPerUnit();
    view.x = drag.vx - dx / s;
    view.y = drag.vy - dy / s;
    clampView();
    renderView();
  });
  mapBox.addEventListener('pointerup', (event) => {
    if (!drag) return;
    const done = drag;
    drag = null;
    mapBox.classList.remove('dragging');
    const rectangle = basemap.querySelector('.drawing');
    if (rectangle) rectangle.remove();
    if (done.draw && done.moved) {
      const a = toDegrees(done.x, done.y);
      const b = toDegrees(event.clientX, event.clientY);
      withFilter('bbox', bboxText({
        west: Math.min(a.lon, b.lon), east: Math.max(a.lon, b.lon),
        south: Math.min(a.lat, b.lat), north: Math.max(a.lat, b.lat),
      }));
    } else if (done.moved) {
      viewChanged();
    }
  });
  mapBox.addEventListener('pointercancel', () => {
    drag = null;
    mapBox.classList.remove('dragging');
  });

  function toWorld(clientX, clientY) {
    const box = mapBox.getBoundingClientRect();
    const { w, h } = mapSize();
    const s = pixelsPerUnit();
    return { x: view.x + (clientX - box.left - w / 2) / s, y: view.y + (clientY - box.top - h / 2) / s };
  }

  function toDegrees(clientX, clientY) {
    const point = toWorld(clientX, clientY);
    return { lon: Math.max(-180, Math.min(180, lonOf(point.x))), lat: Math.max(-MAX_LAT, Math.min(MAX_LAT, latOf(point.y))) };
  }

  function drawRectangle(start, event) {
    const a = toWorld(start.x, start.y);
    const b = toWorld(event.clientX, event.clientY);
    let rectangle = basemap.querySelector('.drawing');
    if (!rectangle) {
      rectangle = svg('rect', { class: 'drawing' });
      basemap.append(rectangle);
    }
    rectangle.setAttribute('x', Math.min(a.x, b.x));
    rectangle.setAttribute('y', Math.min(a.y, b.y));
    rectangle.setAttribute('width', Math.abs(a.x - b.x));
    rectangle.setAttribute('height', Math.abs(a.y - b.y));
  }

  mapBox.addEventListener('wheel', (event) => {
    event.preventDefault();
    const box = mapBox.getBoundingClientRect();
    zoomAt(event.clientX - box.left, event.clientY - box.top, Math.exp(-event.deltaY * 0.0015));
  }, { passive: false });

  mapBox.addEventListener('keydown', (event) => {
    if (event.target !== mapBox) return;
    const { w, h } = mapSize();
    const s = pixelsPerUnit();
    const pan = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[event.key];
    if (pan) {
      view.x += (pan[0] * 80) / s;
      view.y += (pan[1] * 80) / s;
      viewChanged();
    } else if (event.key === '+' || event.key === '=') zoomAt(w / 2, h / 2, 2);
    else if (event.key === '-' || event.key === '_') zoomAt(w / 2, h / 2, 0.5);
    else if (event.key === '0') {
      fitTo(null);
      viewChanged();
    } else return;
    event.preventDefault();
  });

  $('#zoom-in').addEventListener('click', () => zoomAt(mapSize().w / 2, mapSize().h / 2, 2));
  $('#zoom-out').addEventListener('click', () => zoomAt(mapSize().w / 2, mapSize().h / 2, 0.5));
  $('#zoom-world').addEventListener('click', () => {
    fitTo(null);
    viewChanged();
  });
  $('#search-area').addEventListener('click', () => withFilter('bbox', bboxText(visibleArea())));

  // ---------------------------------------------------------------- drafting from a report

  // A report pasted into the form is drafted by POST /v1/drafts, reviewed here with the words
  // each field came from highlighted, and saved by POST /v1/incidents. Both need an editor
  // key: kept in the key field (this page's memory), or in this tab's sessionStorage if the
  // coder asks, never in the URL. The report's text only ever goes into text nodes.

  const draftPanel = $('#draft');
  const draftOpen = $('#draft-open');
  const draftForm = $('#draft-form');
  const reviewForm = $('#draft-review');
  const keyField = $('#d-key');
  const keepKey = $('#d-key-keep');
  const KEY_STORE = 'incidentdb.key';
  /** The answer of the last draft: `{text, draft, evidence, warnings}`. */
  let drafted = null;

  const session = {
    get: () => { try { return sessionStorage.getItem(KEY_STORE); } catch { return null; } },
    set: (value) => { try { sessionStorage.setItem(KEY_STORE, value); } catch { /* storage off */ } },
    drop: () => { try { sessionStorage.removeItem(KEY_STORE); } catch { /* storage off */ } },
  };
  const storedKey = session.get();
  if (storedKey) {
    keyField.value = storedKey;
    keepKey.checked = true;
  }
  const rememberKey = () => {
    if (keepKey.checked && keyField.value.trim()) session.set(keyField.value.trim());
    else session.drop();
  };
  keepKey.addEventListener('change', rememberKey);
  keyField.addEventListener('change', rememberKey);

  function showDraft(open) {
    draftPanel.hidden = !open;
    draftOpen.setAttribute('aria-expanded', String(open));
    if (open) {
      draftPanel.scrollIntoView({ block: 'start' });
      $('#d-text').focus({ preventScroll: true });
    } else {
      draftOpen.focus();
    }
  }
  draftOpen.addEventListener('click', () => showDraft(draftPanel.hidden));
  $('#draft-close').addEventListener('click', () => showDraft(false));

  /** POSTs JSON with the key; the answer's status and body (a problem+json on failure). */
  async function postJSON(url, body) {
    const key = keyField.value.trim();
    const headers = { Accept: 'application/json, application/problem+json', 'Content-Type': 'application/json' };
    if (key) headers.Authorization = `Bearer ${key}`;
    countPending(1);
    try {
      const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
      const answer = await response.json().catch(() => null);
      return { status: response.status, ok: response.ok, body: answer, statusText: response.statusText };
    } finally {
      countPending(-1);
    }
  }

  /** A problem+json in `box`: its detail and every invalid field; marks the fields found in
      `root` (by `data-path`, or by `name` for the report form). */
  function showFormProblem(box, root, answer) {
    const problem = answer.body || {};
    box.replaceChildren(el('p', { text: problem.detail || problem.title || `${answer.status} ${answer.statusText || ''}`.trim() }));
    const errors = problem.errors || [];
    if (errors.length) {
      box.append(el('ul', {}, ...errors.map((e) => el('li', {}, el('code', { text: e.field }), `: ${e.message}`))));
    }
    const fields = errors.map((e) => e.field);
    if (problem.parameter) fields.push(problem.parameter);
    if (answer.status === 401 || answer.status === 403) fields.push('key');
    for (const field of fields) {
      const target = root.querySelector(`[data-path="${CSS.escape(field)}"]`) || root.querySelector(`[name="${CSS.escape(field)}"]`)
        || (field === 'key' ? keyField : null);
      if (target) target.setAttribute('aria-invalid', 'true');
    }
  }

  function clearFormProblem(box, root) {
    box.replaceChildren();
    for (const field of root.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
    keyField.removeAttribute('aria-invalid');
  }

  const optional = (value) => (value.trim() ? value.trim() : null);

  draftForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const formProblem = $('#draft-problem');
    clearFormProblem(formProblem, draftForm);
    const text = $('#d-text').value;
    const missing = [];
    if (!text.trim()) missing.push([$('#d-text'), 'Paste the report’s text.']);
    if (!keyField.value.trim()) missing.push([keyField, 'Give an editor key: drafting needs one.']);
    if (missing.length) {
      for (const [field] of missing) field.setAttribute('aria-invalid', 'true');
      formProblem.replaceChildren(...missing.map(([, message]) => el('p', { text: message })));
      missing[0][0].focus();
      return;
    }
    rememberKey();
    const request = {
      text,
      published_on: optional($('#d-published_on').value),
      url: optional($('#d-url').value),
      title: optional($('#d-title').value),
      publisher: optional($('#d-publisher').value),
    };
    const submit = $('#draft-submit');
    submit.disabled = true;
    $('#draft-status').textContent = 'Drafting…';
    let answer;
    try {
      answer = await postJSON('/v1/drafts', request);
    } catch (error) {
      answer = { status: 0, body: { detail: `The service did not answer: ${error.message}` } };
    } finally {
      submit.disabled = false;
    }
    if (!answer.ok) {
      $('#draft-status').textContent = '';
      showFormProblem(formProblem, draftForm, answer);
      return;
    }
    drafted = { text, ...answer.body };
    renderReview();
    const { evidence, warnings } = drafted;
    $('#draft-status').textContent = `Drafted: ${evidence.length} citations, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}.`;
    $('#draft-review-title').focus();
  });

  /** The report with every cited span in a <mark>: the text is cut at every start and end
      (offsets in code points), and each piece is marked with the fields that cite it. */
  function highlighted(text, evidence) {
    const chars = Array.from(text);
    const cuts = new Set([0, chars.length]);
    const spans = evidence.filter((e) => e.start < e.end && e.end <= chars.length);
    for (const e of spans) {
      cuts.add(e.start);
      cuts.add(e.end);
    }
    const points = [...cuts].sort((a, b) => a - b);
    const nodes = [];
    for (let i = 0; i + 1 < points.length; i += 1) {
      const [from, to] = [points[i], points[i + 1]];
      const piece = chars.slice(from, to).join('');
      const citing = spans.filter((e) => e.start <= from && to <= e.end);
      if (!citing.length) {
        nodes.push(document.createTextNode(piece));
        continue;
      }
      const fields = [...new Set(citing.map((e) => e.field))];
      const label = `Evidence for ${fields.join(', ')}`;
      nodes.push(el('mark', {
        'data-testid': 'draft-evidence',
        'data-fields': fields.join(' '),
        class: `evidence ${evidenceKind(fields)}`,
        title: `${label}: ${[...new Set(citing.map((e) => e.rule))].join('; ')}`,
        text: piece,
      }), el('span', { class: 'visually-hidden', text: ` (${label.toLowerCase()})` }));
    }
    return nodes;
  }

  const evidenceKind = (fields) => {
    const first = fields[0];
    if (first.startsWith('occurred') || first === 'date_precision') return 'when';
    if (first.startsWith('location')) return 'where';
    if (first.startsWith('casualties')) return 'toll';
    if (first.startsWith('perpetrators')) return 'who';
    if (first.startsWith('sources')) return 'source';
    return 'what';
  };

  /** A labelled input for the value at `path` in the draft; `cited` lists the words of the
      evidence for it. */
  let fieldSerial = 0;
  function draftInput(label, path, value, { type = 'text', options = null, required = false, wide = false, list = null, multiline = false, hint = null } = {}) {
    const id = `dr-${(fieldSerial += 1)}`;
    const cites = drafted.evidence.filter((e) => e.field === path);
    const noteId = `${id}-from`;
    let control;
    if (options) {
      control = el('select', { id, 'data-path': path, 'data-testid': `draft-${path}`, 'aria-describedby': noteId },
        ...options.map((option) => el('option', { value: option, text: option || '—', selected: (value ?? '') === option })));
    } else if (multiline) {
      control = el('textarea', { id, 'data-path': path, 'data-testid': `draft-${path}`, rows: 3, 'aria-describedby': noteId, text: value ?? '' });
    } else {
      control = el('input', {
        id, type, 'data-path': path, 'data-testid': `draft-${path}`, value: value ?? '', required,
        autocomplete: 'off', list, 'aria-describedby': noteId,
        step: type === 'number' ? 'any' : null, min: path.startsWith('casualties') ? 0 : null,
        inputmode: path.startsWith('casualties') ? 'numeric' : null,
      });
    }
    const note = cites.length
      ? `from “${cites.map((c) => c.text).join('”, “')}”`
      : (hint || (required ? 'not in the text: give it' : 'not read from the text'));
    return el('div', { class: `field${wide ? ' wide' : ''}` },
      el('label', { for: id, text: label }), control,
      el('small', { id: noteId, class: cites.length ? 'cited' : 'uncited', text: note }));
  }

  const boundsNote = (kind) => el('output', { class: 'bounds', 'data-testid': `draft-${kind}-bounds`, 'aria-live': 'polite' });

  function updateBounds() {
    for (const kind of ['killed', 'injured']) {
      const figures = {};
      for (const bound of ['low', 'best', 'high']) figures[bound] = readNumber(`casualties.${kind}.${bound}`);
      const shown = bounds(figures);
      const output = reviewForm.querySelector(`[data-testid="draft-${kind}-bounds"]`);
      output.textContent = `${shown.main}${shown.range ? ` (${shown.range})` : ''}`;
      output.title = shown.title;
    }
  }

  const fieldOf = (path) => reviewForm.querySelector(`[data-path="${CSS.escape(path)}"]`);
  function readNumber(path) {
    const value = fieldOf(path).value.trim();
    return value === '' ? null : Number(value);
  }

  const CLAIMS = ['claimed', 'denied', 'attributed', 'suspected'];

  function perpetratorRow(perpetrator, index) {
    const id = `dr-perp-${(fieldSerial += 1)}`;
    const cites = drafted.evidence.filter((e) => e.field.startsWith(`perpetrators[${index}]`) || e.field.startsWith(`perpetrators.${index}.`));
    const badge = claimBadge(perpetrator.claim);
    const claim = el('select', {
      id: `${id}-claim`, class: 'perp-claim', 'aria-label': 'Claim',
      onchange: (event) => {
        badge.className = `badge ${event.target.value}`;
        badge.textContent = event.target.value;
      },
    }, ...CLAIMS.map((c) => el('option', { value: c, text: c, selected: c === perpetrator.claim })));
    const row = el('li', { class: 'perp-row', 'data-testid': 'draft-perpetrator' },
      el('label', { for: `${id}-name`, class: 'visually-hidden', text: `Perpetrator ${index + 1}` }),
      el('input', { id: `${id}-name`, class: 'perp-name', value: perpetrator.name, autocomplete: 'off', list: 'l-perpetrator' }),
      claim, badge,
      el('button', { type: 'button', class: 'small', 'aria-label': `Remove perpetrator ${index + 1}`, text: '×', onclick: () => row.remove() }),
      cites.length ? el('small', { class: 'cited', text: `from “${cites.map((c) => c.text).join('”, “')}”` }) : null);
    return row;
  }

  function sourceItemDraft(source) {
    return el('li', {}, [source.title, source.publisher, source.published_on].filter(Boolean).join(' — ') || 'untitled source',
      safeURL(source.url) ? el('small', { text: source.url }) : null,
      source.excerpt ? el('blockquote', { text: source.excerpt }) : null);
  }

  function renderReview() {
    const { draft, evidence, warnings, text } = drafted;
    const location = draft.location || {};
    const casualties = draft.casualties || {};
    reviewForm.hidden = false;
    $('#draft-report').replaceChildren(...highlighted(text, evidence));
    $('#draft-citations').replaceChildren(...evidence.map((e) => el('li', {},
      el('code', { text: e.field }), ' ← “', e.text, '” ', el('small', { text: `${e.rule} [${e.start}–${e.end}]` }))));
    $('#draft-warnings').replaceChildren(...warnings.map((w) => el('li', { text: w })));
    $('#draft-warnings-box').hidden = warnings.length === 0;
    clearFormProblem($('#draft-save-problem'), reviewForm);
    $('#draft-saved-box').replaceChildren();
    $('#draft-save').disabled = false;

    const figures = (kind) => ['low', 'best', 'high'].map((bound) => draftInput(bound, `casualties.${kind}.${bound}`,
      (casualties[kind] || {})[bound], { type: 'number' }));
    const perpetrators = el('ul', { id: 'draft-perpetrators', class: 'perp-list' },
      ...(draft.perpetrators || []).map(perpetratorRow));
    $('#draft-fields').replaceChildren(
      el('fieldset', {}, el('legend', { text: 'When' }), el('div', { class: 'fields' },
        draftInput('Occurred on', 'occurred_on', draft.occurred_on, { type: 'date', required: true }),
        draftInput('Until (optional)', 'occurred_until', draft.occurred_until, { type: 'date' }),
        draftInput('Date precision', 'date_precision', draft.date_precision, { options: ['day', 'week', 'month', 'year'] }))),
      el('fieldset', {}, el('legend', { text: 'Where' }), el('div', { class: 'fields' },
        draftInput('Country code', 'location.country_code', location.country_code),
        draftInput('Country', 'location.country', location.country),
        draftInput('Province / state (admin1)', 'location.admin1', location.admin1),
        draftInput('Place', 'location.place', location.place),
        draftInput('Latitude', 'location.latitude', location.latitude, { type: 'number' }),
        draftInput('Longitude', 'location.longitude', location.longitude, { type: 'number' }),
        draftInput('Location precision', 'location.geo_precision', location.geo_precision,
          { options: ['', 'exact', 'place', 'near', 'admin2', 'admin1', 'country', 'region'] }))),
      el('fieldset', {}, el('legend', { text: 'What' }), el('div', { class: 'fields' },
        draftInput('Event type', 'event_type', draft.event_type, { wide: true, list: 'l-event_type' }),
        draftInput('Sub-event type', 'sub_event_type', draft.sub_event_type, { wide: true }),
        draftInput('Description (optional)', 'description', draft.description, {
          wide: true, multiline: true, hint: 'in your words: the Words filter searches it, with the place and perpetrators',
        }))),
      el('fieldset', { class: 'toll' }, el('legend', {}, 'Killed ', boundsNote('killed')),
        el('div', { class: 'fields three' }, ...figures('killed'))),
      el('fieldset', { class: 'toll' }, el('legend', {}, 'Injured ', boundsNote('injured')),
        el('div', { class: 'fields three' }, ...figures('injured'))),
      el('fieldset', {}, el('legend', { text: 'Perpetrators and claims' }), perpetrators,
        el('button', {
          type: 'button', class: 'small', text: 'Add a perpetrator',
          onclick: () => {
            const row = perpetratorRow({ name: '', claim: 'suspected' }, perpetrators.children.length);
            perpetrators.append(row);
            row.querySelector('input').focus();
          },
        })),
      el('fieldset', {}, el('legend', { text: `Sources (${(draft.sources || []).length})` }),
        (draft.sources || []).length ? el('ul', { class: 'draft-sources' }, ...draft.sources.map(sourceItemDraft))
          : el('p', { class: 'hint', text: 'None: give a URL, headline or publisher above and draft again.' })),
    );
    updateBounds();
  }

  reviewForm.addEventListener('input', (event) => {
    if ((event.target.dataset.path || '').startsWith('casualties')) updateBounds();
  });

  /** The draft as the inputs now say: what they do not show is kept as drafted. */
  function editedDraft() {
    const body = structuredClone(drafted.draft);
    body.location = body.location || {};
    body.casualties = body.casualties || { killed: {}, injured: {} };
    for (const field of reviewForm.querySelectorAll('[data-path]')) {
      const path = field.dataset.path.split('.');
      const raw = field.value.trim();
      const value = raw === '' ? null : field.type === 'number' ? Number(raw) : raw;
      let target = body;
      for (const part of path.slice(0, -1)) target = target[part] = target[part] || {};
      target[path[path.length - 1]] = value;
    }
    if (!body.date_precision) delete body.date_precision;
    body.perpetrators = [...reviewForm.querySelectorAll('.perp-row')]
      .map((row) => ({ name: row.querySelector('.perp-name').value.trim(), claim: row.querySelector('.perp-claim').value }))
      .filter((p) => p.name);
    return body;
  }

  reviewForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!drafted) return;
    const formProblem = $('#draft-save-problem');
    clearFormProblem(formProblem, reviewForm);
    const body = editedDraft();
    if (!body.occurred_on) {
      const field = fieldOf('occurred_on');
      field.setAttribute('aria-invalid', 'true');
      formProblem.replaceChildren(el('p', { text: 'Give the day it occurred on (the text gave none) before saving.' }));
      field.focus();
      return;
    }
    const save = $('#draft-save');
    save.disabled = true;
    let answer;
    try {
      answer = await postJSON('/v1/incidents', body);
    } catch (error) {
      answer = { status: 0, body: { detail: `The service did not answer: ${error.message}` } };
    }
    if (answer.status !== 201) {
      save.disabled = false;
      showFormProblem(formProblem, reviewForm, answer);
      return;
    }
    const id = answer.body.id;
    $('#draft-saved-box').replaceChildren('Saved as ', el('a', {
      href: pageURL({ ...state, incident: String(id) }),
      'data-testid': 'draft-saved',
      'data-id': id,
      text: `incident ${id}`,
      onclick: (click) => {
        if (click.ctrlKey || click.metaKey || click.shiftKey) return;
        click.preventDefault();
        openIncident(id);
      },
    }), '.');
    refresh(false);
  });

  // ---------------------------------------------------------------- putting it together

  /** Reloads everything the filters or the sort decide. */
  function refresh(fit) {
    clearProblems();
    syncForm();
    syncSortHeaders();
    updateLinks();
    drawFilterBox();
    // In the order they are sent: what is quick and first seen, then the aggregations.
    loadTable(true);
    loadTimeline();
    loadCells(fit);
    for (const field of ['region', 'country', 'event_type', 'dataset', 'perpetrator', 'claim']) loadFacet(field);
  }

  let resizeTimer = 0;
  new ResizeObserver(() => {
    clampView();
    renderView();
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(renderTimeline, 100);
  }).observe(document.body);

  clampView();
  renderView();
  loadBasemap('110m').catch(showProblem);
  loadRegions().catch(showProblem);
  refresh(true);
  syncIncident();
})();

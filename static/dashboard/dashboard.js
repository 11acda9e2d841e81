// Live order dashboard: one websocket (/ws/orders/) feeds a list that is updated in place.
// Updates are coalesced per order and applied once per animation frame, with a cap on DOM
// work per frame, so a burst of thousands of events never freezes the page.
(function () {
  "use strict";

  const MAX_ROWS = 1000;            // rows kept in the DOM; older ones fall off the bottom
  const MAX_UPDATES_PER_FRAME = 100;
  const PAGE = 200;
  const initial = JSON.parse(document.getElementById("initial-data").textContent);

  const state = {
    filter: "",
    selected: null,
    counts: Object.assign({}, initial.counts),
    known: new Map(),      // orderId -> {status, revision}: what the counts already include
    rows: new Map(),       // orderId -> <tr>
    order: [],             // orderIds shown, newest first
    created: new Map(),    // orderId -> createdAt (sort key)
    pending: new Map(),    // orderId -> latest projection not yet drawn
    nextCursor: initial.nextCursor,
    frame: 0,
  };

  const tbody = document.getElementById("order-rows");
  const detail = document.getElementById("detail");
  const loadMore = document.getElementById("load-more");

  // ---------- helpers ----------
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function clock(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
  }
  function itemsText(p) {
    return (p.items || []).map((l) => l.qty + "× " + l.sku).join(", ");
  }
  function newer(a, b) {  // is order a newer than b (createdAt desc, orderId desc)?
    const ca = state.created.get(a), cb = state.created.get(b);
    return ca === cb ? a > b : ca > cb;
  }
  function statusLabel(p) {
    return p.compensating ? p.status + " · compensating" : p.status;
  }
  function age(iso) {  // time since the order was placed, as operators read it
    if (!iso) return "";
    const s = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
    if (s >= 86400) return Math.floor(s / 86400) + "d " + String(Math.floor(s % 86400 / 3600)).padStart(2, "0") + "h";
    if (s >= 3600) return Math.floor(s / 3600) + "h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
    return s >= 60 ? Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s" : s + "s";
  }
  // The server's rule (ecom_project/events/saga.py overdue_step), mirrored so that a row turns
  // "stuck" while the page is open: no event arrives for an order that stopped moving.
  function overdueStep(p) {
    const limit = (initial.stepTimeouts || {})[p.waitingStep];
    const since = p.progressAt || p.updatedAt;
    if (!p.waitingStep || !limit || !since) return null;
    return (Date.now() - new Date(since).getTime()) / 1000 > limit ? p.waitingStep : null;
  }

  // ---------- counts ----------
  function renderCounts() {
    let all = 0;
    for (const status of initial.statuses) {
      const n = Math.max(0, state.counts[status] || 0);
      all += n;
      document.getElementById("count-" + status).textContent = n;
    }
    document.getElementById("count-ALL").textContent = all;
  }
  // Local arithmetic gives instant feedback; the server's counts are the truth (orders beyond the
  // loaded page change too), so a change also schedules a throttled re-fetch, and one more once the
  // last change is COUNTS_SETTLE_MS old: the server writes its count changes up to 1 s after the
  // change (FLUSH_S in ecom_project/status_counts.py), so an earlier answer may not hold it yet.
  const COUNTS_SETTLE_MS = 1500;
  let countsTimer = 0, lastChange = 0;
  function refreshCountsSoon() {
    lastChange = Date.now();
    if (!countsTimer) countsTimer = setTimeout(fetchCounts, COUNTS_SETTLE_MS);
  }
  async function fetchCounts() {
    const asked = Date.now();
    try {
      const res = await fetch("/api/read/status-counts");
      if (res.ok) { state.counts = await res.json(); renderCounts(); }
    } catch (e) { lastChange = Date.now(); }
    countsTimer = 0;
    if (lastChange > asked - COUNTS_SETTLE_MS) countsTimer = setTimeout(fetchCounts, COUNTS_SETTLE_MS);
  }
  function countChange(p) {
    const before = state.known.get(p.orderId);
    if (before && before.revision >= p.revision) return false;
    state.known.set(p.orderId, { status: p.status, revision: p.revision });
    if (before && before.status !== p.status) {
      state.counts[before.status]--;
      state.counts[p.status] = (state.counts[p.status] || 0) + 1;
    } else if (!before && p.revision === 1) {
      state.counts[p.status] = (state.counts[p.status] || 0) + 1;
    }
    if (!before || before.status !== p.status) refreshCountsSoon();
    return true;
  }

  // ---------- rows ----------
  function buildRow(id) {
    const tr = el("tr", "row");
    tr.dataset.orderId = id;
    tr.append(el("td", "mono id"), el("td", "status-cell"), el("td", "items"), el("td", "num total"), el("td", "time created"), el("td", "time updated"), el("td", "num age"));
    const mark = el("span", "stuck-mark");
    mark.hidden = true;
    tr.dataset.stuck = "";
    tr.children[1].append(el("span", "badge"), mark);
    return tr;
  }
  function fillRow(tr, p) {
    const c = tr.children;
    c[0].textContent = p.orderId;
    const badge = c[1].firstChild;
    badge.className = "badge status-" + p.status + (p.compensating ? " compensating" : "");
    badge.textContent = statusLabel(p);
    c[2].textContent = itemsText(p);
    c[3].textContent = p.total ? p.total + " " + (p.currency || "") : "";
    c[4].textContent = clock(p.createdAt); c[4].title = p.createdAt || "";
    c[5].textContent = clock(p.updatedAt); c[5].title = p.updatedAt || "";
    tr.projection = p;
    fillProgress(tr);
    tr.dataset.status = p.status;
    tr.classList.toggle("selected", p.orderId === state.selected);
  }
  function fillProgress(tr) {  // age and the stuck mark change with time alone; write only what changed
    const p = tr.projection, stuck = overdueStep(p) || "", ageCell = tr.children[6], text = age(p.createdAt);
    if (ageCell.textContent !== text) ageCell.textContent = text;
    if (tr.dataset.stuck === stuck) return;
    tr.dataset.stuck = stuck;
    const mark = tr.children[1].lastChild;
    mark.hidden = !stuck;
    mark.textContent = stuck ? "stuck: " + stuck : "";
    tr.classList.toggle("is-stuck", !!stuck);
  }
  setInterval(() => { for (const tr of state.rows.values()) fillProgress(tr); }, 5000);
  function flash(tr) {  // Web Animations: no forced layout, unlike restarting a CSS animation
    if (tr.animate) tr.animate([{ backgroundColor: "#2b3b49" }, { backgroundColor: "transparent" }], { duration: 1200, easing: "ease-out" });
  }
  function visible(p) {
    if (state.filter === "STUCK") return !!overdueStep(p);
    return !state.filter || p.status === state.filter;
  }
  function insertPosition(id) {  // binary search in state.order (newest first)
    let lo = 0, hi = state.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newer(state.order[mid], id)) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  function removeRow(id) {
    const tr = state.rows.get(id);
    if (!tr) return;
    tr.remove();
    state.rows.delete(id);
    const i = state.order.indexOf(id);
    if (i >= 0) state.order.splice(i, 1);
  }
  function upsertRow(p, animate) {
    const id = p.orderId;
    state.created.set(id, p.createdAt || "");
    let tr = state.rows.get(id);
    if (!visible(p)) { removeRow(id); return; }
    if (!tr) {
      const at = insertPosition(id);
      if (at >= MAX_ROWS) return;  // older than everything we keep
      tr = buildRow(id);
      tbody.insertBefore(tr, state.order[at] ? state.rows.get(state.order[at]) : null);
      state.order.splice(at, 0, id);
      state.rows.set(id, tr);
      while (state.order.length > MAX_ROWS) removeRow(state.order[state.order.length - 1]);
    }
    fillRow(tr, p);
    if (animate) flash(tr);
  }
  function renderFooter() {
    document.getElementById("row-count").textContent =
      state.order.length + " order" + (state.order.length === 1 ? "" : "s") + " shown" + (state.filter ? " (" + state.filter + ")" : "");
    loadMore.hidden = !state.nextCursor || state.order.length >= MAX_ROWS;
  }

  // ---------- live updates, batched per frame ----------
  function enqueue(p) {
    const waiting = state.pending.get(p.orderId);
    if (!waiting || waiting.revision < p.revision) state.pending.set(p.orderId, p);
    if (!state.frame) state.frame = requestAnimationFrame(flush);
  }
  function flush() {
    state.frame = 0;
    let done = 0;
    const animate = state.pending.size <= 50;  // a burst is shown without per-row flashes
    for (const [id, p] of state.pending) {
      state.pending.delete(id);
      if (countChange(p)) {
        upsertRow(p, animate);
        if (id === state.selected) p.timeline ? renderDetail(p) : refreshDetail(id);
      }
      if (++done >= MAX_UPDATES_PER_FRAME) break;
    }
    renderCounts();
    renderFooter();
    if (state.pending.size) state.frame = requestAnimationFrame(flush);
  }

  // ---------- detail / timeline ----------
  function renderDetail(p) {
    const shown = new Set(Array.from(detail.querySelectorAll("li[data-event-id]"), (li) => li.dataset.eventId));
    const sameOrder = detail.dataset.orderId === p.orderId;
    detail.dataset.orderId = p.orderId;
    detail.replaceChildren();
    const head = el("div", "detail-head");
    head.append(el("h2", "mono", p.orderId), el("span", "badge status-" + p.status + (p.compensating ? " compensating" : ""), statusLabel(p)));
    detail.append(head);
    const facts = el("dl", "facts");
    for (const [k, v] of [["Items", itemsText(p)], ["Total", p.total ? p.total + " " + p.currency : "–"],
      ["Ship to", p.shippingCountry || "–"], ["Created", p.createdAt || ""], ["Updated", p.updatedAt || ""]]) {
      facts.append(el("dt", "", k), el("dd", "", v));
    }
    detail.append(facts);
    const list = el("ol", "timeline");
    list.id = "timeline";
    for (const entry of p.timeline || []) {
      const li = el("li", "entry kind-" + entry.kind);
      li.dataset.eventId = entry.eventId;
      li.dataset.type = entry.type;
      if (sameOrder && !shown.has(entry.eventId)) li.classList.add("fresh");
      const mark = { failed: "✕", compensation: "↺", operator: "⚑", ok: "✓", deadLetter: "☠" }[entry.kind] || "•";
      li.append(el("span", "mark", mark), el("span", "etype", entry.type), el("time", "etime", clock(entry.at)), el("div", "edetail", entry.detail));
      if (entry.deadLetterId) {  // where an operator replays it
        const link = el("a", "dead-letter-link", "open dead letter");
        link.href = "/ops/dead-letters/" + encodeURIComponent(entry.deadLetterId) + "/";
        li.append(link);
      }
      li.lastChild.title = entry.eventId;
      list.append(li);
    }
    detail.append(list);
    if (p.terminal) detail.append(el("p", "terminal", "Final status reached."));
    const stuck = overdueStep(p);
    if (stuck) detail.append(el("p", "overdue", "Stuck: the " + stuck + " step is past its deadline. Operators can retry it on /ops/orders/" + p.orderId + "/."));
  }
  async function refreshDetail(id) {  // the feed carries no timeline: the selected order's comes from the read model
    const res = await fetch("/api/read/orders/" + encodeURIComponent(id));
    const p = res.ok ? await res.json() : null, known = state.known.get(id);
    if (p && state.selected === id && (!known || p.revision >= known.revision)) renderDetail(p);
  }
  async function select(id) {
    state.selected = id;
    for (const [rid, tr] of state.rows) tr.classList.toggle("selected", rid === id);
    detail.replaceChildren(el("p", "placeholder", "Loading " + id + "…"));
    const res = await fetch("/api/read/orders/" + encodeURIComponent(id));
    if (state.selected !== id) return;
    if (!res.ok) { detail.replaceChildren(el("p", "placeholder", "Order " + id + " is not in the read model.")); return; }
    renderDetail(await res.json());
  }
  tbody.addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-order-id]");
    if (tr) select(tr.dataset.orderId);
  });

  // ---------- loading pages ----------
  function showPage(page, reset) {
    const drawn = new Map(Array.from(state.rows, ([id, tr]) => [id, tr.projection]));
    if (reset) {
      tbody.replaceChildren(); state.rows.clear(); state.order = [];
    }
    for (const p of page.results) {  // the server's counts already include these: remember, don't count
      const before = state.known.get(p.orderId);
      if (!before || before.revision < p.revision) state.known.set(p.orderId, { status: p.status, revision: p.revision });
      const newer = drawn.get(p.orderId);  // a push drawn while the page was on its way
      upsertRow(newer && newer.revision > p.revision ? newer : p, false);
    }
    state.nextCursor = page.nextCursor;
    renderCounts(); renderFooter();
  }
  async function loadPage(reset) {
    const params = new URLSearchParams({ limit: PAGE });
    if (state.filter === "STUCK") params.set("stuck", "true");
    else if (state.filter) params.set("status", state.filter);
    if (!reset && state.nextCursor) params.set("cursor", state.nextCursor);
    const [pageRes, countRes] = await Promise.all([fetch("/api/read/orders?" + params), fetch("/api/read/status-counts")]);
    if (countRes.ok) state.counts = await countRes.json();
    if (pageRes.ok) showPage(await pageRes.json(), reset);
  }
  loadMore.addEventListener("click", () => loadPage(false));
  document.getElementById("counts").addEventListener("click", (e) => {
    const chip = e.target.closest("button[data-status]");
    if (!chip) return;
    state.filter = chip.dataset.status;
    for (const c of document.querySelectorAll(".chip")) c.classList.toggle("active", c === chip);
    // Rows the new filter hides go at once: the footer already names the filter, and a live update
    // may render it before the filtered page arrives.
    for (const id of [...state.order]) if (!visible(state.rows.get(id).projection)) removeRow(id);
    loadPage(true);
  });

  // ---------- websocket with reconnect ----------
  const conn = document.getElementById("connection");
  const connText = document.getElementById("connection-text");
  function setConnection(kind, text) {
    conn.className = "conn conn-" + kind;
    conn.dataset.state = kind;
    connText.textContent = text;
  }
  let attempts = 0;
  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/orders/";
    setConnection("connecting", attempts ? "reconnecting…" : "connecting…");
    const ws = new WebSocket(url);
    ws.onopen = () => {
      // Catch up on what changed while no socket was open: before a reconnect, and between the page's
      // first render and this first open too (pushes are sent only to open sockets). Rows the page
      // loads never overwrite a newer revision a push drew meanwhile (showPage).
      loadPage(true);
      attempts = 0;
      setConnection("live", "live");
    };
    ws.onmessage = (msg) => {  // a frame is one tick's changed orders (an array), without timelines
      try { const data = JSON.parse(msg.data); (Array.isArray(data) ? data : [data]).forEach(enqueue); } catch (e) { /* ignore a bad frame */ }
    };
    ws.onclose = () => {
      const delay = Math.min(10000, 500 * 2 ** attempts++);
      let left = Math.ceil(delay / 1000);
      setConnection("down", "disconnected · retry in " + left + "s");
      const tick = setInterval(() => {
        left -= 1;
        if (left > 0) setConnection("down", "disconnected · retry in " + left + "s");
      }, 1000);
      setTimeout(() => { clearInterval(tick); connect(); }, delay);
    };
  }

  showPage(initial, true);
  connect();
  window.dashboard = { state: state, enqueue: enqueue };  // for tests and for poking at it from the console
})();

// Switchboard's workspace script: live counts and lists, live tickets,
// who else is on a ticket, notifications, macros and keyboard shortcuts.
// Every page works without it; this only makes the pages live and faster
// to drive. No build step, no dependencies.
(() => {
  'use strict';
  const shell = document.getElementById('shell');
  const main = document.getElementById('main');
  if (!shell || !main) return;
  const me = Number(shell.dataset.me);
  const prefs = JSON.parse(shell.dataset.prefs || '{}');
  const myTeams = JSON.parse(shell.dataset.teams || '[]');
  const live = main.dataset.live || '';
  const ticketId = Number(main.dataset.ticket || 0);
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  const debounce = (fn, ms) => {
    let timer = 0;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  };

  // ---- Status: chosen from the list, saved at once.
  const statusForm = $('#status-form');
  if (statusForm) {
    const back = document.createElement('input');
    back.type = 'hidden';
    back.name = 'back';
    back.value = location.pathname + location.search;
    statusForm.append(back);
    $('button', statusForm).hidden = true;
    $('select', statusForm).addEventListener('change', () => statusForm.submit());
  }

  // ---- Counts of every view in the navigation.
  async function refreshCounts() {
    const r = await fetch('/api/v1/views/counts', { headers: { accept: 'application/json' } });
    if (!r.ok) return;
    const { counts } = await r.json();
    for (const c of counts) {
      const el = $(`[data-count="${CSS.escape(c.view)}"]`);
      if (el) el.textContent = c.capped ? `${c.count}+` : String(c.count);
    }
  }
  refreshCounts();
  const countsSoon = debounce(refreshCounts, 800);

  // ---- Live parts: re-read this page and swap what is marked
  // [data-live-id], keeping the rows the agent ticked and selected.
  async function refreshParts() {
    const r = await fetch(location.href, { headers: { accept: 'text/html' } });
    if (!r.ok) return null;
    const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
    for (const el of $$('[data-live-id]')) {
      const fresh = $(`[data-live-id="${CSS.escape(el.dataset.liveId)}"]`, doc);
      if (!fresh) continue;
      const ticked = new Set($$('input[name=ids]:checked', el).map((i) => i.value));
      const selected = $('[data-row].selected', el)?.dataset.href;
      el.replaceWith(fresh);
      for (const i of $$('input[name=ids]', fresh)) i.checked = ticked.has(i.value);
      if (selected) $(`[data-href="${CSS.escape(selected)}"]`, fresh)?.classList.add('selected');
    }
    return doc;
  }
  const listSoon = debounce(refreshParts, 400);

  // ---- A ticket that changed while it is open: shown at once if the
  // agent is not editing; otherwise a notice (saving would be refused).
  let editing = false;
  for (const form of $$('#reply, #fields')) {
    form.addEventListener('input', () => {
      editing = true;
    });
  }
  async function ticketChanged(version) {
    if (version <= Number(main.dataset.version)) return;
    if (editing) {
      $('#changed').hidden = false;
      return;
    }
    const doc = await refreshParts();
    const fresh = doc && $('#main', doc);
    if (!fresh) return;
    main.dataset.version = fresh.dataset.version;
    for (const input of $$('input[name=version]')) input.value = fresh.dataset.version;
    editing = false;
  }

  // ---- Notifications.
  function toast(text, href) {
    const box = $('#toasts');
    if (!box) return;
    const item = document.createElement(href ? 'a' : 'p');
    item.className = 'toast';
    item.textContent = text;
    if (href) item.href = href;
    box.append(item);
    setTimeout(() => item.remove(), 8000);
    if (prefs.desktop && 'Notification' in window && Notification.permission === 'granted') {
      new Notification(text);
    }
  }
  if (prefs.desktop && 'Notification' in window && Notification.permission === 'default') {
    document.addEventListener('click', () => Notification.requestPermission(), { once: true });
  }
  function notify(change) {
    const kinds = change.kinds || [];
    const byMe = change.actor && change.actor.kind === 'staff' && change.actor.id === me;
    if (byMe) return;
    const link = `/tickets/${change.ticket_id}`;
    if (prefs.assigned_to_me && kinds.includes('assigned') && change.assignee_id === me) {
      toast(`Ticket #${change.ticket_id} was assigned to you`, link);
    } else if (
      prefs.customer_replied && kinds.includes('message_added') && change.assignee_id === me &&
      change.actor && change.actor.kind === 'customer'
    ) {
      toast(`The customer wrote on #${change.ticket_id}`, link);
    } else if (
      prefs.new_in_my_teams && kinds.includes('created') && change.assignee_id == null &&
      myTeams.includes(change.team_id)
    ) {
      toast(`New ticket #${change.ticket_id} in your team`, link);
    }
  }

  // ---- The live stream of changes the agent may see.
  if ('EventSource' in window) {
    const stream = new EventSource('/api/v1/stream');
    stream.addEventListener('ticket', (e) => {
      const change = JSON.parse(e.data);
      countsSoon();
      notify(change);
      if (live === 'list') listSoon();
      if (live === 'ticket' && change.ticket_id === ticketId) ticketChanged(change.version);
    });
    // Leaving the page frees the connection at once (browsers allow six per server).
    window.addEventListener('pagehide', () => stream.close());
    stream.addEventListener('resync', () => {
      countsSoon();
      if (live === 'list') listSoon();
    });
  }

  // ---- Who else is on this ticket (a heartbeat every 10 s).
  if (live === 'ticket') {
    let lastTyped = 0;
    $('#body')?.addEventListener('input', () => {
      lastTyped = Date.now();
    });
    const beat = async () => {
      const typing = Date.now() - lastTyped < 8000;
      const r = await fetch(`/api/v1/tickets/${ticketId}/presence`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ typing }),
      });
      if (!r.ok) return;
      const { others, version } = await r.json();
      const line = $('#presence');
      if (line) {
        line.textContent = others
          .map((o) => (o.typing ? `${o.name} is typing a reply…` : `${o.name} is viewing this ticket`))
          .join(' · ');
      }
      ticketChanged(version);
    };
    beat();
    setInterval(beat, 10000);
    $('#body')?.addEventListener('input', debounce(beat, 300), { once: true });
    window.addEventListener('pagehide', () => {
      fetch(`/api/v1/tickets/${ticketId}/presence`, { method: 'DELETE', keepalive: true });
    });
  }

  // ---- Macros: inserted where the cursor is, with their visibility and
  // status; the macro's other changes are made when the reply is sent.
  const macroForm = $('#macro-form');
  $('#macro')?.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      macroForm.requestSubmit();
    }
  });
  macroForm?.addEventListener('submit', (e) => {
    const option = $('#macro').selectedOptions[0];
    const body = $('#body');
    if (!option || !option.value || !body) return;
    e.preventDefault();
    const at = body.selectionStart ?? body.value.length;
    body.value = body.value.slice(0, at) + option.dataset.body + body.value.slice(body.selectionEnd ?? at);
    $(option.dataset.public === 'true' ? '#as-reply' : '#as-note').checked = true;
    if (option.dataset.status) $('#reply-status').value = option.dataset.status;
    $('#macro_id').value = option.value;
    editing = true;
    body.focus();
  });

  // ---- Ctrl+Enter (or Cmd+Enter) sends the reply from the editor.
  $('#body')?.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $('#reply').requestSubmit();
    }
  });

  // ---- Lists: a row is opened by clicking anywhere on it.
  document.addEventListener('click', (e) => {
    const row = e.target.closest('[data-row][data-href]');
    if (!row || e.target.closest('a, input, button, label, select')) return;
    location.href = row.dataset.href;
  });

  // ---- Keyboard shortcuts.
  const rows = () => $$('[data-row]');
  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.findIndex((r) => r.classList.contains('selected'));
    const next = all[Math.min(Math.max(at + step, 0), all.length - 1)];
    all.forEach((r) => r.classList.remove('selected'));
    next.classList.add('selected');
    next.setAttribute('aria-selected', 'true');
    next.scrollIntoView({ block: 'nearest' });
  }
  const dialog = $('#shortcuts');
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    const inField = target.closest && target.closest('input, textarea, select, [contenteditable]');
    if (e.key === 'Escape') {
      if (inField) target.blur();
      return;
    }
    if (inField || (dialog && dialog.open)) return;
    const selected = $('[data-row].selected');
    const act = {
      j: () => move(1),
      k: () => move(-1),
      Enter: () => selected && (location.href = selected.dataset.href),
      x: () => {
        const box = selected && $('input[name=ids]', selected);
        if (box) box.checked = !box.checked;
      },
      '/': () => $('#nav-q')?.focus(),
      '?': () => dialog?.showModal(),
      r: () => {
        $('#as-reply') && ($('#as-reply').checked = true);
        $('#body')?.focus();
      },
      n: () => {
        $('#as-note') && ($('#as-note').checked = true);
        $('#body')?.focus();
      },
      a: () => $('#take')?.requestSubmit(),
      s: () => $('#f-status')?.focus(),
      m: () => $('#macro')?.focus(),
    }[e.key];
    if (!act) return;
    if (e.key === 'Enter' && !selected) return;
    e.preventDefault();
    act();
  });
})();

// SPDX-License-Identifier: LGPL-2.1-or-later
// The consent page: reads the token from the URL fragment (never sent to the
// server in a URL), speaks consent.v1 over a websocket to the same host.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const state = { ws: null, notice: null, request: null, answer: null };

  function setStatus(text, isError) {
    const el = $('status');
    el.textContent = text;
    el.classList.toggle('error', !!isError);
  }

  function tokenFromFragment() {
    const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
    return params.get('token');
  }

  function showNotice(n) {
    state.notice = n;
    $('notice-controller').textContent = n.controller;
    $('notice-purpose').textContent = n.purpose;
    $('notice-storage').textContent = n.storage;
    $('notice-retention').textContent = n['retention-days'] + ' days';
    $('notice-version').textContent = n.version;
    $('notice-text').textContent = n.text;
  }

  function updateButtons() {
    const open = state.ws && state.ws.readyState === WebSocket.OPEN;
    $('accept').disabled = !open || !state.request || state.answer === 'accept';
    $('decline').disabled = !open || !state.request || state.answer === 'decline';
    $('withdraw').disabled = !open || state.answer !== 'accept';
  }

  function send(msg) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN)
      state.ws.send(JSON.stringify(msg));
  }

  function answer(decision) {
    if (!state.request || !state.notice)
      return;
    state.answer = decision;
    setStatus(decision === 'accept' ? 'Sending your consent…' : 'Sending your answer…');
    send({ type: 'consent', decision: decision, notice: state.notice.version, request: state.request });
    updateButtons();
  }

  function onMessage(ev) {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    switch (msg.type) {
    case 'welcome':
      showNotice(msg.notice);
      setStatus('Connected as ' + msg.participant + ' in meeting ' + msg.meeting + '.');
      break;
    case 'request':
      state.request = msg.request;
      state.answer = null;
      $('request-state').textContent = 'Recording was requested. Do you agree to be recorded?';
      break;
    case 'state':
      if (!msg.recording) {
        state.request = null;
        $('request-state').textContent = 'No recording is requested.';
      }
      break;
    case 'recorded':
      if (['accept', 'decline', 'withdraw'].indexOf(msg.event) < 0)
        break; // joins and notice-shown are recorded too; the receipt is for answers
      $('receipt').textContent = 'Your ' + msg.event + ' was recorded as ledger record ' +
        msg.record + ' (hash ' + msg.hash + ').';
      setStatus(msg.event === 'accept' ? 'Consent recorded.' :
                msg.event === 'withdraw' ? 'Consent withdrawn. Recording stopped.' : 'Answer recorded.');
      if (msg.event === 'withdraw') state.answer = 'withdraw';
      break;
    case 'error':
      setStatus('Error: ' + msg.message + ' (' + msg.code + ')', true);
      break;
    }
    updateButtons();
  }

  function connect() {
    const token = tokenFromFragment();
    if (!token) {
      setStatus('This link has no token. Use the link from your meeting invitation.', true);
      return;
    }
    const scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
    const ws = new WebSocket(scheme + window.location.host + '/v1/ws', 'consent.v1');
    state.ws = ws;
    ws.onopen = () => { send({ type: 'hello', token: token }); updateButtons(); };
    ws.onmessage = onMessage;
    ws.onclose = (ev) => {
      if (!$('status').classList.contains('error'))
        setStatus('Disconnected (' + ev.code + '). Reload the page to reconnect.', true);
      updateButtons();
    };
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('accept').addEventListener('click', () => answer('accept'));
    $('decline').addEventListener('click', () => answer('decline'));
    $('withdraw').addEventListener('click', () => { send({ type: 'withdraw' }); });
    connect();
  });
})();

// Figures a form computes (x-computed): recomputed live as a person types, shown read-only.
// The server computes them again and alone decides (engine/form_rules/computed.py); this only shows
// the figure early. Understands + - * / ( ), numbers, field names, sum/min/max/len(table.column) and
// sum_where(table.column, table.key, name): the total of the rows whose key is the value of `name`.
(function () {
  'use strict';
  var form = document.querySelector('form.task-form');
  if (!form) { return; }
  var knownNode = document.getElementById('known-figures');
  var known = {};
  try { known = JSON.parse(knownNode ? knownNode.getAttribute('data-known') || '{}' : '{}') || {}; } catch (e) { known = {}; }

  function tokens(source) {
    var found = source.match(/\s*([0-9]+(?:\.[0-9]+)?|[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?|[-+*\/(),])/g);
    if (!found || found.join('').replace(/\s/g, '') !== source.replace(/\s/g, '')) { return null; }
    return found.map(function (t) { return t.trim(); });
  }

  function number(text) {
    if (text === undefined || text === null) { return null; }
    if (typeof text === 'number') { return text; }
    var cleaned = String(text).replace(/[,\s]/g, '');
    if (cleaned === '' || !/^-?[0-9]*\.?[0-9]+$/.test(cleaned)) { return null; }
    return parseFloat(cleaned);
  }

  function field(name) { return form.querySelector('[name="' + name + '"]'); }

  function lookup(name, prefix) {
    var own = prefix ? field(prefix + name) : null;
    if (own) { return number(own.value); }
    var top = field(name);
    if (top) { return number(top.value); }
    return number(known[name]);
  }

  function column(path) {
    var parts = path.split('.');
    var re = new RegExp('^' + parts[0] + '\\.[0-9]+\\.' + parts[1] + '$');
    var values = [];
    form.querySelectorAll('[name^="' + parts[0] + '."]').forEach(function (el) {
      if (re.test(el.name)) { values.push(number(el.value) || 0); }
    });
    if (!form.querySelector('[name^="' + parts[0] + '."]') && Array.isArray(known[parts[0]])) {
      known[parts[0]].forEach(function (row) { values.push(number(row && row[parts[1]]) || 0); });
    }
    return values;
  }

  function raw(name, prefix) {
    var own = prefix ? field(prefix + name) : null;
    if (own) { return own.value; }
    var top = field(name);
    if (top) { return top.value; }
    return known[name] === undefined ? null : known[name];
  }

  function columnWhere(totalPath, keyPath, wanted) {
    var total = totalPath.split('.'), key = keyPath.split('.');
    if (total.length !== 2 || key.length !== 2 || total[0] !== key[0]) { return null; }
    var re = new RegExp('^' + total[0] + '\\.([0-9]+)\\.' + total[1] + '$');
    var sum = 0, rows = false;
    form.querySelectorAll('[name^="' + total[0] + '."]').forEach(function (el) {
      var match = re.exec(el.name);
      if (!match) { return; }
      rows = true;
      var cell = field(total[0] + '.' + match[1] + '.' + key[1]);
      if (cell && String(cell.value) === String(wanted)) { sum += number(el.value) || 0; }
    });
    if (!rows && Array.isArray(known[total[0]])) {
      known[total[0]].forEach(function (row) {
        if (row && String(row[key[1]]) === String(wanted)) { sum += number(row[total[1]]) || 0; }
      });
    }
    return sum;
  }

  var FUNCTIONS = {
    sum: function (v) { return v.reduce(function (a, b) { return a + b; }, 0); },
    min: function (v) { return v.length ? Math.min.apply(null, v) : null; },
    max: function (v) { return v.length ? Math.max.apply(null, v) : null; },
    len: function (v) { return v.length; }
  };

  // A recursive-descent evaluator over the tokens; null when something is missing or not understood.
  function evaluate(source, prefix) {
    var list = tokens(source);
    if (!list) { return null; }
    var at = 0;
    function peek() { return list[at]; }
    function next() { return list[at++]; }
    function expr() {
      var value = term();
      while (peek() === '+' || peek() === '-') {
        var op = next(), right = term();
        value = (value === null || right === null) ? null : (op === '+' ? value + right : value - right);
      }
      return value;
    }
    function term() {
      var value = unary();
      while (peek() === '*' || peek() === '/') {
        var op = next(), right = unary();
        value = (value === null || right === null || (op === '/' && right === 0)) ? null
          : (op === '*' ? value * right : value / right);
      }
      return value;
    }
    function unary() {
      if (peek() === '-') { next(); var v = unary(); return v === null ? null : -v; }
      return primary();
    }
    function primary() {
      var t = next();
      if (t === undefined) { throw new Error('end'); }
      if (t === '(') { var v = expr(); if (next() !== ')') { throw new Error(')'); } return v; }
      if (/^[0-9]/.test(t)) { return parseFloat(t); }
      if (t === 'sum_where' && peek() === '(') {
        next();
        var totalPath = next(), comma1 = next(), keyPath = next(), comma2 = next(), name = next();
        if (comma1 !== ',' || comma2 !== ',' || next() !== ')') { throw new Error('sum_where'); }
        var wanted = /^[0-9]/.test(name) ? name : raw(name, prefix);
        return (wanted === null || wanted === '') ? null : columnWhere(totalPath, keyPath, wanted);
      }
      if (peek() === '(' && FUNCTIONS[t]) {
        next();
        var values = [];
        while (peek() !== ')') {
          if (peek() === undefined) { throw new Error(')'); }
          var arg = peek();
          if (/^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z]/.test(arg)) { next(); values = values.concat(column(arg)); }
          else { var one = expr(); if (one === null) { return null; } values.push(one); }
          if (peek() === ',') { next(); }
        }
        next();
        return FUNCTIONS[t](values);
      }
      if (/^[A-Za-z]/.test(t) && t.indexOf('.') < 0) { return lookup(t, prefix); }
      throw new Error(t);
    }
    try {
      var result = expr();
      return at === list.length ? result : null;
    } catch (e) { return null; }
  }

  function show(input, value) {
    if (value === null || !isFinite(value)) { input.value = ''; return; }
    var rounded = Math.round(value * 100) / 100;
    input.value = input.classList.contains('money')
      ? rounded.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
      : String(rounded);
  }

  function recompute() {
    var inputs = form.querySelectorAll('[data-computed]');
    // Row figures first, then the totals that add them up (the server's order too).
    [true, false].forEach(function (inRows) {
      inputs.forEach(function (input) {
        var match = /^(.*\.[0-9]+\.)[^.]+$/.exec(input.name);
        if (Boolean(match) !== inRows || input.closest('template')) { return; }
        show(input, evaluate(input.getAttribute('data-computed'), match ? match[1] : ''));
      });
    });
  }

  form.addEventListener('input', recompute);
  new MutationObserver(recompute).observe(form, { childList: true, subtree: true });
  recompute();
}());

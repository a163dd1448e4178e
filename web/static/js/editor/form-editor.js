/* The form editor beside the diagram: a user task's JSON Schema as rows of fields (name, Thai title,
   type, required, choices, min/max), the raw JSON for experts, and a live preview drawn by the server's
   own renderer (POST .../edit/preview), with the server's checks shown in Thai. */
(function () {
  'use strict';
  var TYPES = ['text', 'textarea', 'integer', 'number', 'money', 'date', 'boolean', 'choice'];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function kindOf(prop, hint) {
    var type = Array.isArray(prop.type) ? prop.type.filter(function (t) { return t !== 'null'; })[0] : prop.type;
    var widget = hint && hint.widget;
    if (prop.enum) { return 'choice'; }
    if (type === 'array' || type === 'object' || prop['x-computed']) { return 'other'; }
    if (type === 'boolean') { return 'boolean'; }
    if (type === 'integer') { return 'integer'; }
    if (type === 'number') { return widget === 'money' ? 'money' : 'number'; }
    if (prop.format === 'date') { return 'date'; }
    return widget === 'textarea' ? 'textarea' : 'text';
  }

  function rowsOf(schema) {
    var props = schema.properties || {};
    var ui = schema.ui || {};
    var order = (ui.order || []).filter(function (k) { return k in props; });
    Object.keys(props).forEach(function (k) { if (order.indexOf(k) < 0) { order.push(k); } });
    var required = schema.required || [];
    return order.map(function (name) {
      var prop = props[name] || {};
      var kind = kindOf(prop, ui[name]);
      var titles = prop['x-enum-titles'] || [];
      return {
        name: name, title: prop.title || '', kind: kind, required: required.indexOf(name) >= 0,
        choices: (prop.enum || []).map(function (v, i) { return titles[i] ? v + '=' + titles[i] : String(v); }).join(', '),
        min: prop.minimum !== undefined ? String(prop.minimum) : '',
        max: prop.maximum !== undefined ? String(prop.maximum) : (prop.maxLength !== undefined ? String(prop.maxLength) : ''),
        original: prop
      };
    });
  }

  function num(text) {
    var n = Number(String(text).replace(/,/g, ''));
    return String(text).trim() !== '' && isFinite(n) ? n : undefined;
  }

  function propOf(row, uiEntry) {
    var prop = Object.assign({}, row.original);
    if (row.kind === 'other') { return prop; }
    ['type', 'format', 'enum', 'x-enum-titles', 'minimum', 'maximum', 'maxLength'].forEach(function (k) { delete prop[k]; });
    delete uiEntry.widget;
    prop.title = row.title;
    var max = num(row.max);
    var min = num(row.min);
    if (row.kind === 'text' || row.kind === 'textarea') {
      prop.type = 'string';
      prop.maxLength = max !== undefined ? max : (row.kind === 'text' ? 500 : 5000);
      if (row.kind === 'textarea') { uiEntry.widget = 'textarea'; }
    } else if (row.kind === 'integer' || row.kind === 'number' || row.kind === 'money') {
      prop.type = row.kind === 'integer' ? 'integer' : 'number';
      if (min !== undefined) { prop.minimum = min; }
      if (max !== undefined) { prop.maximum = max; }
      if (row.kind === 'money') { uiEntry.widget = 'money'; }
    } else if (row.kind === 'date') {
      prop.type = 'string';
      prop.format = 'date';
    } else if (row.kind === 'boolean') {
      prop.type = 'boolean';
    } else if (row.kind === 'choice') {
      prop.type = 'string';
      var pairs = row.choices.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
      prop.enum = pairs.map(function (p) { return p.split('=')[0].trim(); });
      prop['x-enum-titles'] = pairs.map(function (p) { var parts = p.split('='); return (parts[1] || parts[0]).trim(); });
    }
    return prop;
  }

  function schemaOf(base, title, rows) {
    var schema = Object.assign({}, base);
    var ui = Object.assign({}, base.ui || {});
    schema.type = 'object';
    schema.title = title;
    schema.properties = {};
    rows.forEach(function (row) {
      if (!row.name) { return; }
      var uiEntry = Object.assign({}, ui[row.name] || {});
      schema.properties[row.name] = propOf(row, uiEntry);
      if (Object.keys(uiEntry).length) { ui[row.name] = uiEntry; } else { delete ui[row.name]; }
    });
    schema.required = rows.filter(function (r) { return r.name && r.required; }).map(function (r) { return r.name; });
    ui.order = rows.filter(function (r) { return r.name; }).map(function (r) { return r.name; });
    schema.ui = ui;
    return schema;
  }

  function create(options) {
    var texts = options.texts;
    var root = document.getElementById('editor-form');
    var tbody = document.getElementById('form-rows');
    var raw = document.getElementById('form-raw');
    var titleInput = document.getElementById('form-title');
    var preview = document.getElementById('form-preview');
    var problems = document.getElementById('form-problems');
    var state = { path: null, base: {}, rows: [] };
    var timer = null;

    function current() { return schemaOf(state.base, titleInput.value, state.rows); }

    function changed() {
      var schema = current();
      raw.value = JSON.stringify(schema, null, 2);
      options.onChange(state.path, schema);
      clearTimeout(timer);
      timer = setTimeout(function () { showPreview(null); }, 250);
    }

    function showPreview(values) {
      var body = { path: state.path, schema: current(), values: values };
      options.post(options.previewUrl, body).then(function (answer) {
        problems.textContent = '';
        (answer.problems || []).forEach(function (p) { problems.appendChild(el('li', {}, p)); });
        preview.innerHTML = answer.html || '';  // drawn by the server's renderer, escaped by Jinja
        root.dataset.previewed = String(Date.now());
      });
    }

    function input(row, key, attrs) {
      var node = el('input', Object.assign({ value: row[key] }, attrs || {}));
      node.addEventListener('input', function () { row[key] = node.value; changed(); });
      return node;
    }

    function draw() {
      tbody.textContent = '';
      state.rows.forEach(function (row, index) {
        var tr = el('tr', { 'data-field': row.name });
        var n = index + 1;
        tr.appendChild(el('td')).appendChild(input(row, 'name', { 'aria-label': texts.name + ' ' + n, maxlength: '60', class: 'field-name' }));
        tr.appendChild(el('td')).appendChild(input(row, 'title', { 'aria-label': texts.name + ' (ไทย) ' + n, maxlength: '300', class: 'field-title' }));
        var select = el('select', { 'aria-label': texts.kind + ' ' + n, class: 'field-kind' });
        if (row.kind === 'other') { select.appendChild(el('option', { value: 'other' }, 'JSON')); select.disabled = true; }
        TYPES.forEach(function (t) {
          var option = el('option', { value: t }, texts.types[t]);
          if (t === row.kind) { option.selected = true; }
          select.appendChild(option);
        });
        select.addEventListener('change', function () { row.kind = select.value; draw(); changed(); });
        tr.appendChild(el('td')).appendChild(select);
        var box = el('input', { type: 'checkbox', 'aria-label': 'required ' + n, class: 'field-required' });
        box.checked = row.required;
        box.addEventListener('change', function () { row.required = box.checked; changed(); });
        tr.appendChild(el('td')).appendChild(box);
        var choices = tr.appendChild(el('td'));
        if (row.kind === 'choice') { choices.appendChild(input(row, 'choices', { 'aria-label': 'choices ' + n, class: 'field-choices' })); }
        tr.appendChild(el('td')).appendChild(input(row, 'min', { 'aria-label': 'min ' + n, inputmode: 'decimal', size: '6' }));
        tr.appendChild(el('td')).appendChild(input(row, 'max', { 'aria-label': 'max ' + n, inputmode: 'decimal', size: '6' }));
        var remove = el('button', { type: 'button', class: 'button small ghost' }, texts.remove);
        remove.addEventListener('click', function () { state.rows.splice(index, 1); draw(); changed(); });
        tr.appendChild(el('td')).appendChild(remove);
        tbody.appendChild(tr);
      });
    }

    function open(path, schema) {
      state.path = path;
      state.base = schema && typeof schema === 'object' ? schema : { type: 'object', properties: {} };
      state.rows = rowsOf(state.base);
      titleInput.value = state.base.title || '';
      document.getElementById('form-path').textContent = path;
      raw.value = JSON.stringify(state.base, null, 2);
      root.hidden = false;
      draw();
      showPreview(null);
    }

    titleInput.addEventListener('input', changed);
    document.getElementById('form-add').addEventListener('click', function () {
      state.rows.push({ name: 'field_' + (state.rows.length + 1), title: '', kind: 'text', required: false,
                        choices: '', min: '', max: '', original: {} });
      draw();
      changed();
    });
    document.getElementById('form-add-decision').addEventListener('click', function () {
      if (state.rows.some(function (r) { return r.name === 'decision'; })) { return; }
      state.rows.push({ name: 'decision', title: 'ผลการพิจารณา', kind: 'choice', required: true, min: '', max: '',
                        choices: 'approved=' + texts.approved + ', returned=' + texts.returned + ', rejected=' + texts.rejectedD,
                        original: {} });
      state.rows.push({ name: 'note', title: 'เหตุผล / ข้อสังเกต', kind: 'textarea', required: false, choices: '',
                        min: '', max: '2000', original: {} });
      draw();
      changed();
    });
    document.getElementById('form-raw-apply').addEventListener('click', function () {
      try {
        var parsed = JSON.parse(raw.value);
        open(state.path, parsed);
        options.onChange(state.path, parsed);
      } catch (err) {
        problems.textContent = '';
        problems.appendChild(el('li', {}, texts.badJson + ': ' + err.message));
      }
    });
    document.getElementById('form-try').addEventListener('click', function () {
      var values = {};
      new FormData(preview).forEach(function (value, key) { if (typeof value === 'string') { values[key] = value; } });
      showPreview(values);
    });
    preview.addEventListener('submit', function (event) { event.preventDefault(); });

    return { open: open, close: function () { root.hidden = true; state.path = null; }, path: function () { return state.path; } };
  }

  window.KhantonForms = { create: create, schemaOf: schemaOf, rowsOf: rowsOf };
}());

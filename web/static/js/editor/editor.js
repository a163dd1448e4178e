/* The analyst's editor: bpmn-js's modeler, a properties panel in Thai for Khanton's conventions, the
   form editor beside it, and the server's check drawn on the diagram (markers, overlays, a list).
   Everything the page needs comes from the data-json of #editor-data and #editor-texts (no inline script). */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('editor-data').dataset.json);
  var texts = JSON.parse(document.getElementById('editor-texts').dataset.json);
  var B = window.KhantonBpmn;
  var modeler = new window.BpmnJS({ container: '#editor-canvas' });
  var forms = Object.assign({}, data.forms || {});   // forms edited here: path -> schema
  var fetched = {};                                    // forms as the server keeps them
  var problemMarks = [];
  var statusBox = document.getElementById('editor-status');
  var panel = document.getElementById('panel-body');
  var selected = null;

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }

  function status(message, kind) {
    statusBox.hidden = false;
    statusBox.className = 'flash flash-' + (kind || 'info');
    statusBox.textContent = message;
  }

  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': data.csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) { answer.httpStatus = response.status; return answer; });
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  var formEditor = window.KhantonForms.create({
    texts: texts, previewUrl: data.urls.preview, post: post,
    onChange: function (path, schema) { if (path) { forms[path] = schema; } }
  });

  // --- the properties panel -------------------------------------------------------------------
  var fieldCount = 0;
  function row(label, control) {
    var id = 'prop-' + (++fieldCount);
    control.id = id;
    var wrap = el('div', { class: 'prop-row' });
    wrap.appendChild(el('label', { for: id }, label));
    wrap.appendChild(control);
    panel.appendChild(wrap);
    return control;
  }

  function textInput(value, onChange, attrs) {
    var input = el('input', Object.assign({ value: value || '' }, attrs || {}));
    input.addEventListener('change', function () { onChange(input.value); });
    return input;
  }

  function choose(options, value, onChange) {
    var select = el('select');
    options.forEach(function (o) {
      var option = el('option', { value: o[0] }, o[1]);
      if (o[0] === value) { option.selected = true; }
      select.appendChild(option);
    });
    select.addEventListener('change', function () { onChange(select.value); });
    return select;
  }

  function officeLaneName(key) {
    var found = data.lanes.filter(function (l) { return l.key === key; })[0];
    return found ? found.name : null;
  }

  function formPathFor(element) {  // engine/forms.FORM_PATH: lower case, digits, _ and -
    return data.key + '/' + element.id.toLowerCase().replace(/[^a-z0-9_-]/g, '_').replace(/^[^a-z0-9]+/, '') + '.json';
  }

  function isTask(type) { return ['bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:Task'].indexOf(type) >= 0; }

  function drawPanel(element) {
    panel.textContent = '';
    selected = element;
    document.getElementById('panel-empty').hidden = !!element;
    if (!element || element.type === 'label') { return; }
    var modeling = modeler.get('modeling');
    var bo = element.businessObject;
    panel.appendChild(el('p', { class: 'prop-kind' }, element.type.replace('bpmn:', '') + ' · ' + element.id));
    if (element.type !== 'bpmn:Process') {
      row(texts.name, textInput(bo.name, function (v) { modeling.updateProperties(element, { name: v }); },
                                { 'data-prop': 'name', maxlength: '300' }));
    }
    if (element.type === 'bpmn:Lane') {
      var laneOptions = [['', texts.chooseLane]].concat(data.lanes.map(function (l) { return [l.key, l.name + ' (' + l.key + ')']; }));
      row(texts.officeLane, choose(laneOptions, officeLaneName(bo.id) ? bo.id : '', function (key) {
        if (key) { modeling.updateProperties(element, { id: key, name: officeLaneName(key) }); drawPanel(element); }
      })).setAttribute('data-prop', 'office-lane');
      panel.appendChild(el('p', { class: 'muted' }, 'lane ที่ไม่มีในรายการ ให้ผู้ดูแลระบบเพิ่มที่ /admin/lanes หรือสั่ง khanton lane add'));
    }
    if (element.type === 'bpmn:Participant' || element.type === 'bpmn:Lane') {
      var add = el('button', { type: 'button', class: 'button small', 'data-prop': 'add-lane' }, texts.addLane);
      add.addEventListener('click', function () { modeling.addLane(element, 'bottom'); });
      panel.appendChild(add);
    }
    if (isTask(element.type)) {
      var lanes = B.laneShapes(modeler);
      var mine = B.laneOf(modeler, element);
      var options = [['', texts.noLane]].concat(lanes.map(function (l) {
        return [l.id, (officeLaneName(l.id) || l.businessObject.name || l.id) + ' (' + l.id + ')'];
      }));
      row(texts.lane, choose(options, mine ? mine.id : '', function (id) {
        var lane = modeler.get('elementRegistry').get(id);
        if (lane) { B.moveIntoLane(modeler, element, lane); }
        drawPanel(element);
      })).setAttribute('data-prop', 'lane');
      row(texts.manualRef, textInput(B.getProp(element, 'manualRef'), function (v) { B.setProp(modeler, element, 'manualRef', v); },
                                     { 'data-prop': 'manualRef', maxlength: '100' }));
      row(texts.dueIn, textInput(B.getProp(element, 'dueIn'), function (v) { B.setProp(modeler, element, 'dueIn', v); },
                                 { 'data-prop': 'dueIn', maxlength: '100' }));
    }
    if (element.type === 'bpmn:UserTask') {
      var formInput = row(texts.form, textInput(B.getProp(element, 'formJsonSchemaFilename'), function (v) {
        B.setProp(modeler, element, 'formJsonSchemaFilename', v);
        openForm(element);
      }, { 'data-prop': 'form', maxlength: '200', placeholder: formPathFor(element) }));
      var edit = el('button', { type: 'button', class: 'button small', 'data-prop': 'edit-form' }, texts.editForm);
      edit.addEventListener('click', function () {
        if (!B.getProp(element, 'formJsonSchemaFilename')) {
          formInput.value = formPathFor(element);
          B.setProp(modeler, element, 'formJsonSchemaFilename', formInput.value);
        }
        openForm(element);
        document.getElementById('editor-form').scrollIntoView();
      });
      panel.appendChild(edit);
    }
    if (element.type === 'bpmn:SequenceFlow') {
      var source = element.source;
      var cond = row(texts.condition, textInput(B.condition(element), function (v) { B.setCondition(modeler, element, v); },
                                                { 'data-prop': 'condition', maxlength: '2000' }));
      if (source && /Gateway$/.test(source.type)) {
        var decided = (B.condition(element).match(/^decision == "(\w+)"$/) || [])[1] || '';
        row(texts.decisionIs, choose([['', texts.none], ['approved', texts.approved], ['returned', texts.returned],
                                      ['rejected', texts.rejectedD]], decided, function (v) {
          var text = v ? 'decision == "' + v + '"' : '';
          B.setCondition(modeler, element, text);
          cond.value = text;
        })).setAttribute('data-prop', 'decision');
        var isDefault = el('input', { type: 'checkbox', 'data-prop': 'default' });
        isDefault.checked = source.businessObject.default === bo;
        isDefault.addEventListener('change', function () {
          modeling.updateProperties(source, { default: isDefault.checked ? bo : undefined });
        });
        row(texts['default'], isDefault);
      }
    }
    var timer = B.timerValue(element);
    if (timer) {
      var kind = timer.kind;
      var value = textInput(timer.text, function (v) { B.setTimer(modeler, element, kind, v); },
                            { 'data-prop': 'timer', maxlength: '200' });
      row(texts.timer, choose([['timeDuration', texts.timeDuration], ['timeDate', texts.timeDate], ['timeCycle', texts.timeCycle]],
                              kind, function (k) { kind = k; B.setTimer(modeler, element, kind, value.value); }))
        .setAttribute('data-prop', 'timer-kind');
      row(texts.timer, value);
    }
    if (element.type === 'bpmn:EndEvent') {
      row(texts.endStatus, choose([['', texts.completed], ['rejected', texts.rejected]],
                                  B.getProp(element, 'khantonEndStatus') === 'rejected' ? 'rejected' : '', function (v) {
        B.setProp(modeler, element, 'khantonEndStatus', v);
      })).setAttribute('data-prop', 'end-status');
    }
  }

  function openForm(element) {
    var path = B.getProp(element, 'formJsonSchemaFilename');
    if (!path) { formEditor.close(); return; }
    if (forms[path]) { formEditor.open(path, forms[path]); return; }
    if (path in fetched) { formEditor.open(path, fetched[path]); return; }
    fetch(data.urls.form + '?path=' + encodeURIComponent(path), { credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        var schema = answer.schema || { type: 'object', title: element.businessObject.name || '', properties: {}, required: [] };
        fetched[path] = schema;
        if (!answer.schema) { forms[path] = schema; }  // a new form: it goes with the draft
        formEditor.open(path, schema);
      });
  }

  // --- problems on the diagram ----------------------------------------------------------------
  function clearProblems() {
    var canvas = modeler.get('canvas');
    problemMarks.forEach(function (id) { canvas.removeMarker(id, 'has-problem'); });
    problemMarks = [];
    modeler.get('overlays').remove({ type: 'problem' });
    document.getElementById('editor-problems').textContent = '';
  }

  function showProblems(problems) {
    clearProblems();
    var registry = modeler.get('elementRegistry');
    var canvas = modeler.get('canvas');
    var list = document.getElementById('editor-problems');
    document.getElementById('problems-none').textContent = problems.length ? fill(texts.problems, { n: problems.length }) : texts.noProblems;
    problems.forEach(function (p, index) {
      var shape = p.element ? registry.get(p.element) : null;
      var item = el('li', { 'data-element': p.element || '' });
      var where = (p.element || '') + (p.line ? ' · ' + texts.line + ' ' + p.line : '');
      if (shape) {
        canvas.addMarker(shape.id, 'has-problem');
        problemMarks.push(shape.id);
        var badge = el('div', { class: 'problem-badge', title: p.message }, String(index + 1));
        modeler.get('overlays').add(shape.id, 'problem', { position: { top: -10, right: 10 }, html: badge });
        var go = el('button', { type: 'button', class: 'link-button' }, where);
        go.addEventListener('click', function () {
          modeler.get('selection').select(shape);
          canvas.scrollToElement(shape);
        });
        item.appendChild(go);
      } else {
        item.appendChild(el('strong', {}, where));
      }
      item.appendChild(el('span', { class: 'problem-message' }, ' ' + p.message));
      list.appendChild(item);
    });
  }

  // --- save, check, publish -------------------------------------------------------------------
  function current() {
    return modeler.saveXML({ format: true }).then(function (saved) {
      return { xml: saved.xml, forms: forms, note: document.getElementById('editor-note').value };
    });
  }

  function drawDrafts(items) {
    var list = document.getElementById('editor-drafts');
    list.textContent = '';
    items.forEach(function (d) {
      var li = el('li');
      li.appendChild(el('a', { href: data.urls.edit + '?draft=' + d.id }, fill(texts.draft, { id: d.id })));
      li.appendChild(document.createTextNode(' — ' + d.author_name + ', ' + d.saved_at_text + (d.note ? ' — ' + d.note : '')));
      list.appendChild(li);
    });
  }

  document.getElementById('editor-save').addEventListener('click', function () {
    current().then(function (body) { return post(data.urls.drafts, body); }).then(function (answer) {
      if (answer.httpStatus !== 201) { status((answer.error && answer.error.message) || texts.failed, 'error'); return; }
      drawDrafts(answer.drafts);
      history.replaceState(null, '', answer.url);
      status(fill(texts.saved, { id: answer.id }), 'success');
    });
  });

  document.getElementById('editor-check').addEventListener('click', function () {
    status(texts.checking, 'info');
    current().then(function (body) { return post(data.urls.check, body); }).then(function (answer) {
      if (answer.httpStatus !== 200) { status((answer.error && answer.error.message) || texts.failed, 'error'); return; }
      showProblems(answer.problems);
      status(answer.problems.length ? fill(texts.problems, { n: answer.problems.length }) : texts.ok,
             answer.problems.length ? 'error' : 'success');
    });
  });

  document.getElementById('editor-publish').addEventListener('click', function () {
    if (!document.getElementById('editor-note').value.trim()) {
      status(texts.noteNeeded, 'error');
      document.getElementById('editor-note').focus();
      return;
    }
    status(texts.checking, 'info');
    current().then(function (body) { return post(data.urls.publish, body); }).then(function (answer) {
      if (answer.httpStatus === 201 || answer.httpStatus === 200) {
        clearProblems();
        var text = fill(answer.created ? texts.published : texts.unchanged, { v: answer.version });
        status(text, 'success');
        var link = el('a', { href: answer.url }, ' ' + data.name);
        statusBox.appendChild(link);
        return;
      }
      var details = (answer.error && Array.isArray(answer.error.details)) ? answer.error.details : [];
      if (answer.error && answer.error.code === 'invalid_definition') {
        showProblems(details);
        status(fill(texts.refused, { n: details.length }), 'error');
      } else {
        status((answer.error && answer.error.message) || texts.failed, 'error');
      }
    });
  });

  modeler.on('selection.changed', function (event) {
    var element = event.newSelection.length === 1 ? event.newSelection[0] : null;
    drawPanel(element);
    if (element && element.type === 'bpmn:UserTask') { openForm(element); }
  });

  modeler.importXML(data.xml).then(function (result) {
    modeler.get('canvas').zoom('fit-viewport');
    if (result.warnings && result.warnings.length) {
      status(result.warnings.map(function (w) { return w.message; }).join('; '), 'error');
    }
    document.body.dataset.editorReady = 'true';
  }).catch(function (err) {
    status(texts.failed + ': ' + err.message, 'error');
    document.body.dataset.editorReady = 'failed';
    // The diagram cannot be drawn (an imported file, a broken draft): the server's check says where, by line.
    post(data.urls.check, { xml: data.xml, forms: forms }).then(function (answer) {
      if (answer.problems) { showProblems(answer.problems); return; }
      // XML that cannot be read safely is refused before any check, its line in the message.
      var details = (answer.error && Array.isArray(answer.error.details)) ? answer.error.details : [];
      if (details.length) { showProblems(details); }
    });
  });

  window.khantonEditor = { modeler: modeler, forms: forms, showProblems: showProblems, drawPanel: drawPanel };
}());

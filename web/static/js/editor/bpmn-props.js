/* Khanton's conventions on BPMN elements, read and written through bpmn-js's moddle:
   spiffworkflow:properties (formJsonSchemaFilename, manualRef, dueIn, khantonEndStatus), conditions on
   sequence flows, timer definitions, and which lane a flow node sits in (engine/definitions.py reads them). */
(function () {
  'use strict';
  var SPIFF = 'http://spiffworkflow.org/bpmn/schema/1.0/core';

  function propsElement(bo) {
    var ext = bo.extensionElements;
    var values = (ext && ext.values) || [];
    for (var i = 0; i < values.length; i++) {
      if (values[i].$type === 'spiffworkflow:properties') { return values[i]; }
    }
    return null;
  }

  function getProp(element, name) {
    var props = propsElement(element.businessObject);
    var children = (props && props.$children) || [];
    for (var i = 0; i < children.length; i++) {
      if (children[i].name === name) { return children[i].value || ''; }
    }
    return '';
  }

  function setProp(modeler, element, name, value) {
    var moddle = modeler.get('moddle');
    var bo = element.businessObject;
    var ext = bo.extensionElements;
    if (!ext) {
      ext = moddle.create('bpmn:ExtensionElements', { values: [] });
      ext.$parent = bo;
    }
    ext.values = ext.values || [];
    var props = propsElement(bo);
    if (!props) {
      props = moddle.createAny('spiffworkflow:properties', SPIFF, {});
      props.$children = [];
      props.$parent = ext;
      ext.values.push(props);
    }
    props.$children = props.$children || [];
    var found = null;
    for (var i = 0; i < props.$children.length; i++) {
      if (props.$children[i].name === name) { found = i; }
    }
    value = (value || '').trim();
    if (value && found === null) {
      var prop = moddle.createAny('spiffworkflow:property', SPIFF, { name: name, value: value });
      prop.$parent = props;
      props.$children.push(prop);
    } else if (value) {
      props.$children[found].value = value;
    } else if (found !== null) {
      props.$children.splice(found, 1);
    }
    modeler.get('modeling').updateProperties(element, { extensionElements: ext });
  }

  function condition(element) {
    var expr = element.businessObject.conditionExpression;
    return expr ? (expr.body || '') : '';
  }

  function setCondition(modeler, element, text) {
    text = (text || '').trim();
    var expr = text ? modeler.get('moddle').create('bpmn:FormalExpression', { body: text }) : undefined;
    modeler.get('modeling').updateProperties(element, { conditionExpression: expr });
  }

  function timerOf(element) {
    var defs = element.businessObject.eventDefinitions || [];
    for (var i = 0; i < defs.length; i++) {
      if (defs[i].$type === 'bpmn:TimerEventDefinition') { return defs[i]; }
    }
    return null;
  }

  function timerValue(element) {
    var timer = timerOf(element);
    if (!timer) { return null; }
    var kinds = ['timeDuration', 'timeDate', 'timeCycle'];
    for (var i = 0; i < kinds.length; i++) {
      if (timer[kinds[i]]) { return { kind: kinds[i], text: timer[kinds[i]].body || '' }; }
    }
    return { kind: 'timeDuration', text: '' };
  }

  function setTimer(modeler, element, kind, text) {
    var timer = timerOf(element);
    if (!timer) { return; }
    var update = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
    if ((text || '').trim()) {
      update[kind] = modeler.get('moddle').create('bpmn:FormalExpression', { body: text.trim() });
    }
    modeler.get('modeling').updateModdleProperties(element, timer, update);
  }

  function laneShapes(modeler) {
    return modeler.get('elementRegistry').filter(function (e) { return e.type === 'bpmn:Lane'; });
  }

  function laneOf(modeler, element) {
    var lanes = laneShapes(modeler);
    for (var i = 0; i < lanes.length; i++) {
      var refs = lanes[i].businessObject.flowNodeRef || [];
      if (refs.indexOf(element.businessObject) >= 0) { return lanes[i]; }
    }
    return null;
  }

  function moveIntoLane(modeler, element, lane) {
    var targetY = lane.y + lane.height / 2;
    var currentY = element.y + element.height / 2;
    var dx = 0;
    var centerX = element.x + element.width / 2;
    if (centerX < lane.x + 40 || centerX > lane.x + lane.width - 10) {
      dx = lane.x + lane.width / 2 - centerX;
    }
    modeler.get('modeling').moveShape(element, { x: dx, y: targetY - currentY }, lane.parent || lane);
  }

  window.KhantonBpmn = {
    getProp: getProp, setProp: setProp, condition: condition, setCondition: setCondition,
    timerValue: timerValue, setTimer: setTimer, laneShapes: laneShapes, laneOf: laneOf,
    moveIntoLane: moveIntoLane
  };
}());

// Reads the event table of common/events.c (see common/events.h): per event
// its source, what browsers get, and its fields {name, type, req, nullable};
// plus the job summary's and the worker record's fields.
import { readFileSync } from 'node:fs';

export function readTable(root) {
  const text = readFileSync(`${root}/common/events.c`, 'utf8');
  const lists = {};
  for (const m of text.matchAll(/const event_field_t (\w+)\[\] = \{([\s\S]*?)\{NULL, 0, 0\}\};/g))
    lists[m[1]] = [...m[2].matchAll(/\{"([\w.]+)", EVF_(\w+), ([^}]+)\}/g)].map((f) => ({
      name: f[1], type: f[2], req: /\bREQ/.test(f[3]), nullable: /NULL/.test(f[3]),
    }));
  const events = {};
  for (const m of text.matchAll(/\[EV_\w+\] = \{"(\w+)", EVS_(\w+), EVB_(\w+), (\w+)\}/g))
    events[m[1]] = { source: m[2], browser: m[3], fields: lists[m[4]] || [] };
  if (!lists.EVENTS_JOB_SUMMARY || !lists.EVENTS_WORKER_RECORD || Object.keys(events).length < 10)
    throw new Error('cannot read the event table in common/events.c');
  return { events, summary: lists.EVENTS_JOB_SUMMARY, worker: lists.EVENTS_WORKER_RECORD };
}

// The top-level names of a field list ("outputs.model" -> "outputs").
export const topNames = (fields) => new Set(fields.map((f) => f.name.split('.')[0]));

const typeOk = {
  INT: (v) => Number.isInteger(v), NUMBER: (v) => typeof v === 'number', STRING: (v) => typeof v === 'string',
  BOOL: (v) => typeof v === 'boolean', OBJECT: (v) => typeof v === 'object' && !Array.isArray(v),
  ARRAY: (v) => Array.isArray(v),
};

// Problems of obj against fields (required, types, no field the table lacks;
// nested "a.b" fields checked inside a); partial: skip "required".
export function checkFields(what, obj, fields, partial = false) {
  const out = [];
  const byName = new Map(fields.map((f) => [f.name, f]));
  const walk = (o, prefix) => {
    for (const [k, v] of Object.entries(o)) {
      const f = byName.get(prefix + k);
      if (!f) { out.push(`${what}: field ${prefix + k} is not in the table`); continue; }
      if (v === null) { if (!f.nullable) out.push(`${what}: ${prefix + k} is null`); continue; }
      if (!typeOk[f.type](v)) out.push(`${what}: ${prefix + k} is ${JSON.stringify(v)}, not ${f.type}`);
      else if (f.type === 'OBJECT' && fields.some((g) => g.name.startsWith(prefix + k + '.'))) walk(v, prefix + k + '.');
    }
  };
  walk(obj, '');
  if (!partial)
    for (const f of fields) {
      const [a, b] = f.name.split('.');
      const has = b === undefined ? a in obj : obj[a] != null && typeof obj[a] === 'object' && b in obj[a];
      if (f.req && !has) out.push(`${what}: required field ${f.name} missing`);
    }
  return out;
}

// Puts a validation error of the server (details.fieldErrors, dotted paths
// like "character.level") on the matching fields of an antd form; returns
// what has no field to land on, for a message above the form.

import type { FormInstance } from 'antd';
import type { NamePath } from 'antd/es/form/interface';
import { ApiError, errorMessage, fieldErrors } from '../../api/client';

function formErrorsOf(e: unknown): string[] {
  if (!(e instanceof ApiError) || typeof e.details !== 'object' || e.details === null) return [];
  const list = (e.details as { formErrors?: unknown }).formErrors;
  return Array.isArray(list) ? list.filter((m): m is string => typeof m === 'string') : [];
}

const sameName = (a: NamePath, b: NamePath) =>
  JSON.stringify(Array.isArray(a) ? a : [a]) === JSON.stringify(Array.isArray(b) ? b : [b]);

export function applyServerErrors<V>(
  form: FormInstance<V>,
  e: unknown,
  fieldMap: Record<string, NamePath> = {},
): string[] {
  const known = form.getFieldsError().map((f) => f.name);
  const onFields: { name: NamePath; errors: string[] }[] = [];
  const elsewhere = formErrorsOf(e);
  for (const [field, msgs] of Object.entries(fieldErrors(e))) {
    const name = fieldMap[field] ?? field.split('.');
    if (known.some((k) => sameName(k, name))) onFields.push({ name, errors: msgs });
    else elsewhere.push(`${field}: ${msgs.join('; ')}`);
  }
  form.setFields(onFields as Parameters<FormInstance<V>['setFields']>[0]);
  if (onFields.length === 0 && elsewhere.length === 0) elsewhere.push(errorMessage(e));
  return elsewhere;
}

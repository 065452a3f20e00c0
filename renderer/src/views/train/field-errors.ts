import type { z } from 'zod';

/**
 * Turns zod issues from the contract's own schemas into one plain message per form field, keyed
 * by the last path segment (`settings.epochs` → `epochs`), so the form shows exactly what the host
 * would refuse, before anything is sent.
 */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const key = fieldKey(issue.path);
    if (!errors[key]) errors[key] = describe(issue);
  }
  return errors;
}

function fieldKey(path: readonly PropertyKey[]): string {
  const names = path.filter((part): part is string => typeof part === 'string');
  // Nested objects name the field by their parent: sizing.scale → scale.
  return names[names.length - 1] ?? 'form';
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return 'Must be a whole number.';
      if (issue.expected === 'number') return 'Enter a number.';
      return `Expected ${issue.expected}.`;
    case 'too_small':
      return `Must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}.`;
    case 'too_big':
      return `Must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}.`;
    case 'invalid_value':
      return `Choose one of: ${issue.values.map(String).join(', ')}.`;
    default:
      return issue.message;
  }
}

/** A text field as a number: empty or malformed text becomes NaN, which the schema refuses. */
export function numberField(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? Number.NaN : Number(trimmed);
}

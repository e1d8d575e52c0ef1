// Counts in words, for every message a person reads (events, logs, the command line).

// "1 policy", "2 policies": the count with the word that fits it.
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

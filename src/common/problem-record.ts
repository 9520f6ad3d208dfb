/** What the request log line says about a failed request. */
export interface ProblemSummary {
  code: string;
  errno?: string;
}

/** The problem each failed response carried; weak, so it goes with the response. */
const problems = new WeakMap<object, ProblemSummary>();

/** Called by the problem filter, read by the request logger when the response completes. */
export function recordProblem(response: object, summary: ProblemSummary): void {
  problems.set(response, summary);
}

export function recordedProblem(response: object): ProblemSummary | undefined {
  return problems.get(response);
}

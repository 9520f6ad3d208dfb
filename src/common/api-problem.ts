import { ApiErrorCode } from './error-catalog';

export interface FieldError {
  field: string;
  message: string;
}

/** An error the HTTP layer raises itself (validation, media types); rendered by `ProblemFilter`. */
export class ApiProblem extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** Extra members of the problem document. */
    readonly details: Readonly<Record<string, unknown>> = {},
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

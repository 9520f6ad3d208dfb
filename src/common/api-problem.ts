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
    readonly details: Record<string, string | number | boolean> = {},
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { ApiProblem } from '../common/api-problem';
import { ProblemFilter } from '../common/problem.filter';
import { TlsError } from '../sockets/tls/tls-error';

/** Hands the TLS runtime's domain errors to the one problem+json renderer, with their code, message and details. */
@Catch(TlsError)
export class TlsErrorFilter implements ExceptionFilter {
  private readonly problems = new ProblemFilter();

  catch(exception: TlsError, host: ArgumentsHost): void {
    this.problems.catch(new ApiProblem(exception.code, exception.message, exception.details), host);
  }
}

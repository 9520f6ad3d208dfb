import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import { ApiProblem } from './api-problem';

export const JSON_TYPE = 'application/json';

/** How a read answers: its JSON representation, or the raw bytes in the operation's binary media type. */
export type AnswerForm = 'json' | 'binary';

/**
 * Chooses between JSON and `binaryType` by the request's Accept header (RFC 9110 content
 * negotiation: quality values, `q=0` refusing a type, wildcards). JSON is offered first, so it is
 * the answer without an Accept header, to a wildcard, and between equals. A header that accepts
 * neither answers 406.
 */
export function negotiate(accept: string | undefined, binaryType: string): AnswerForm {
  const offered = [JSON_TYPE, binaryType];
  // A blank Accept is taken as none (any type), as clients that send one mean.
  const chosen = new Negotiator({ headers: { accept: accept?.trim() || undefined } }).mediaType(offered);
  if (chosen === undefined) {
    throw new ApiProblem('NOT_ACCEPTABLE', `this read answers ${offered.join(' or ')}; the Accept header takes neither`, { available: offered });
  }
  return chosen === JSON_TYPE ? 'json' : 'binary';
}

/**
 * The negotiated answer form of a read offering JSON or `binaryType` (see `negotiate`). Worked
 * out before the handler runs, so a request that accepts neither is refused before it waits.
 */
export const Negotiated = createParamDecorator((binaryType: string, context: ExecutionContext): AnswerForm =>
  negotiate(context.switchToHttp().getRequest<FastifyRequest>().headers.accept, binaryType),
);

// The admin API's one error shape: an error whose code, message and details are safe to show to the caller.
import type { AdminError, AdminErrorCode } from '@partner-oauth/contracts';
import { AdminErrorCodes } from '@partner-oauth/contracts';
import type { ErrorDetail } from '@partner-oauth/service-kit';

/** An error whose code and message are safe to show to the caller. */
export class AdminApiError extends Error {
  override name = 'AdminApiError';
  readonly code: AdminErrorCode;
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;
  readonly headers: Record<string, string>;

  constructor(code: AdminErrorCode, message: string, options: { details?: ErrorDetail[]; headers?: Record<string, string> } = {}) {
    super(message);
    this.code = code;
    this.status = AdminErrorCodes[code];
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  toJSON(): AdminError {
    return this.details ? { error: this.code, message: this.message, details: this.details } : { error: this.code, message: this.message };
  }
}

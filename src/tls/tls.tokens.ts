/** Injection token of the TLS options `TlsModule.forRoot` was given, defaults filled in. */
export const TLS_OPTIONS = Symbol('TLS_OPTIONS');

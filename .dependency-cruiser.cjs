/**
 * The layering of src/ (docs/architecture.md draws it). Arrows run down only:
 *   entry (main, app.*, shutdown, wiring/, openapi/)
 *   → feature folders (tcp, udp, tls, events, limits, health, metrics, logging, security)
 *   → auth → common → config → policy → sockets (the runtime: Node only, no Nest, no HTTP).
 * Specs may also import the test support code.
 */
const FEATURES = '(tcp|udp|tls|events|limits|health|metrics|logging|security|faults|proxies|toxiproxy|rules|scenario|cluster)';
const ENTRY = '^src/(main|app\\.module|app\\.factory|shutdown)\\.ts$|^src/(wiring|openapi)/';
const notSpec = '\\.spec\\.ts$';

/** A folder `from` whose modules may import nothing under `forbidden`. */
function below(name, from, forbidden, comment) {
  return { name, severity: 'error', comment, from: { path: from, pathNot: notSpec }, to: { path: forbidden } };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules must not import each other in a loop.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'sockets-runtime-is-plain-node',
      severity: 'error',
      comment: 'src/sockets is the socket runtime: it imports only itself, Node and libraries made for its job, never Nest, Fastify or the HTTP layer.',
      from: { path: '^src/sockets/', pathNot: notSpec },
      to: { path: ['^src/(?!sockets/)', 'node_modules/(@nestjs|@fastify|fastify|class-validator|class-transformer|ajv|zod|pino)'] },
    },
    below('policy-sees-only-sockets', '^src/policy/', '^src/(?!policy/|sockets/)', 'The network policy judges addresses; it knows only the runtime it implements an interface of.'),
    below('config-sees-policy-and-sockets', '^src/config/', '^src/(?!config/|policy/|sockets/)', 'Settings are parsed below every module that reads them.'),
    below('common-sees-config-policy-sockets', '^src/common/', '^src/(?!common/|config/|policy/|sockets/)', 'Shared HTTP pieces serve the feature folders and must not depend on them.'),
    below('auth-sees-common-and-below', '^src/auth/', '^src/(?!auth/|common/|config/|policy/|sockets/)', 'API keys and ownership sit under every feature folder.'),
    below('features-never-import-the-entry', `^src/${FEATURES}/`, ENTRY, 'The feature folders are wired together at the top, never the other way.'),
    {
      name: 'only-specs-import-test-support',
      severity: 'error',
      comment: 'Shipped code never depends on the test suites.',
      from: { path: '^src/', pathNot: notSpec },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|dist-bench)/' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

# syntax=docker/dockerfile:1
# Build stage: install everything, compile TypeScript (`npm run build`), then drop the dev
# dependencies so only production ones are copied on.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts, as on the machines the tests run on: nothing here needs one, and one of
# them (@scarf/scarf, via swagger-ui-dist) only reports the install to an analytics service.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies and the compiled code only, as the non-root `node` user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# The live console's static files (/console/), served as they are.
COPY --chown=node:node public ./public
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# What `npm start` runs once built (its V8 flags: see "Memory" in docs/operations.md). Exec form: node is the main process, with no shell in
# between, so SIGTERM from `docker stop` reaches it; it drains and exits within
# SOCKPLANE_SHUTDOWN_TIMEOUT_MS (8 s by default, under docker stop's 10 s).
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=64", "--initial-old-space-size=128", "dist/main.js"]

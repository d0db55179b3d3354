# syntax=docker/dockerfile:1
# pgplane: one image build, one target per program.
#
#   docker build -t function-pgplane .                      # default target: the composition function
#   docker build --target provider -t provider-pgplane .    # the grants provider
#
# Both run as the distroless non-root user (uid 65532) with node as PID 1: node receives SIGTERM
# directly and the servers drain and exit on it, so no init process is needed.

# ---- build: compile TypeScript, then keep only production dependencies ----
FROM node:24-bookworm AS build
WORKDIR /app
# Dependencies first, so a source change does not reinstall them. --ignore-scripts: nothing the
# runtime needs has an install script, and `prepare` (tsc) would run before src/ is copied.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs scripts/bundle-options.mjs ./scripts/
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: distroless Node 24 (LTS), no shell, no package manager ----
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production
# Owned by root and not writable by the user the program runs as.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Numeric, so Kubernetes can verify runAsNonRoot (65532 is distroless' "nonroot").
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "dist/cli/main.js"]

# ---- the grants provider ----
FROM runtime AS provider
# /metrics, /healthz and /readyz.
EXPOSE 8080
# Memory before speed, for a controller that mostly waits (bench/README.md, "Provider peers";
# npm run bench:provider-peers runs these flags):
# - a 1 MiB young generation and V8's size-optimised heap growth: peak RSS at 500 Grants ~137 ->
#   ~96 MiB for about 5 % more CPU;
# - no optimising compilers (TurboFan, Maglev; the interpreter and Sparkplug stay): their code
#   pages and compile memory were 13-15 MiB of the peak at 500 and 2,000 Grants (94 -> 81,
#   101 -> 86 MiB) for 0-8 % more CPU.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--optimize-for-size", "--no-opt", "--no-maglev", "dist/cli/main.js"]
CMD ["serve", "provider"]

# ---- the composition function (last stage: the default target) ----
FROM runtime AS function
# Crossplane calls RunFunction on 9443 (TLS, certificates mounted by the package manager).
EXPOSE 9443
CMD ["serve", "function"]

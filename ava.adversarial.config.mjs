// The adversarial suites (__test__/adversarial: pool chaos, differential par fuzz, bad-input and
// wire-decoder fuzz, soak), run by `npm run test:adversarial` as part of `npm test`, after the
// rest of the ava suite (whose config in package.json leaves them out): each works within a time
// budget and loads both cores, so they do not share the machine with the timing-sensitive specs.
export default {
  extensions: { ts: 'commonjs' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  files: ['__test__/adversarial/**/*.spec.ts'],
  timeout: '5m',
};

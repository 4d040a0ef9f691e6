/** Three levels (STYLE §13): unit specs beside the code, e2e and integration specs in test/. */
const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.(t|j)s$': ['ts-jest', { tsconfig: 'tsconfig.spec.json' }] },
  // jose 6 ships ESM only; let ts-jest transpile it to CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testEnvironment: 'node',
};
module.exports = {
  // testTimeout is a global option: Jest ignores it inside project entries.
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', rootDir: 'src', testRegex: '.*\\.spec\\.ts$' },
    { ...common, displayName: 'e2e', rootDir: 'test', testRegex: '.*\\.(e2e|integration)-spec\\.ts$' },
  ],
};

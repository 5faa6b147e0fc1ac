// @ts-check
// The repository's rules, plus one exception: GraphQL Code Generator starts its files with
// `/* eslint-disable */`, which lint would otherwise report as unused.
import root from '../../eslint.config.js';

export default [...root, { files: ['src/gql/**'], linterOptions: { reportUnusedDisableDirectives: 'off' } }];

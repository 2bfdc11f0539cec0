import { vitestConfig } from '../../vitest.shared.ts';

export default vitestConfig({ include: ['test/**/*.test.ts'], fileParallelism: false });

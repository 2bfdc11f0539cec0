import { vitestConfig } from '../../vitest.shared.ts';

export default vitestConfig({ setupFiles: ['./test/setup.ts'] });

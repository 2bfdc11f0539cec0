// The WebGPU device the tests run on: Dawn in Node, on the machine's GPU where
// there is one, else on SwiftShader (a software Vulkan driver shipped by
// Debian's chromium package). As root, missing Debian packages are installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { nodeGPU, SWIFTSHADER_ICDS, type NodeGPU } from '../src/node.js';

function hasVulkanLoader(): boolean {
  return spawnSync('sh', ['-c', 'ldconfig -p | grep -q libvulkan.so.1']).status === 0;
}

/** Install libvulkan1 and chromium (for its SwiftShader ICD) when missing and root. */
function ensurePackages(): void {
  const missing = [!hasVulkanLoader() && 'libvulkan1', !SWIFTSHADER_ICDS.some((f) => existsSync(f)) && 'chromium'].filter(Boolean) as string[];
  if (!missing.length || process.getuid?.() !== 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  }
}

/** The GPU, or the reason there is none (tests then skip with it). */
export async function testGPU(): Promise<NodeGPU | string> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  ensurePackages();
  try {
    return await nodeGPU();
  } catch (e) {
    return (e as Error).message;
  }
}

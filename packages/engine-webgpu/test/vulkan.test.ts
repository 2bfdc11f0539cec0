import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemVulkanDriver } from '../src/node.js';

/** Whether /etc/vulkan/icd.d (always searched by the loader) holds a driver on this machine. */
function etcDriver(): boolean {
  try {
    return readdirSync('/etc/vulkan/icd.d').some((f) => f.endsWith('.json'));
  } catch {
    return false;
  }
}

describe('systemVulkanDriver (whether Dawn would find a Vulkan driver without SwiftShader)', () => {
  it('looks for ICD manifests where the Vulkan loader does', () => {
    const root = mkdtempSync(join(tmpdir(), 'tms-vk-'));
    const empty = { XDG_CONFIG_DIRS: join(root, 'config'), XDG_DATA_HOME: join(root, 'home'), XDG_DATA_DIRS: join(root, 'data') };
    expect(systemVulkanDriver(empty, 'linux')).toBe(etcDriver());
    // a manifest in a data dir, e.g. /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    mkdirSync(join(root, 'data', 'vulkan', 'icd.d'), { recursive: true });
    writeFileSync(join(root, 'data', 'vulkan', 'icd.d', 'README'), 'not a manifest');
    expect(systemVulkanDriver(empty, 'linux')).toBe(etcDriver());
    writeFileSync(join(root, 'data', 'vulkan', 'icd.d', 'nvidia_icd.json'), '{}');
    expect(systemVulkanDriver(empty, 'linux')).toBe(true);
    expect(systemVulkanDriver({ ...empty, XDG_DATA_DIRS: `/nonexistent:${join(root, 'data')}` }, 'linux')).toBe(true);
    // Metal and D3D12 need no ICD
    expect(systemVulkanDriver(empty, 'darwin')).toBe(true);
  });
});

/** IPv4 arithmetic for the simulator's IPAM and for validating profile addresses (NSX-T PKS is IPv4). */

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => OCTET.test(p));
}

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export interface Cidr {
  /** First address, as a number. */
  start: number;
  prefix: number;
  /** Number of addresses. */
  size: number;
}

/** Parses `a.b.c.d/n`; the address must be the network's first (NSX rejects host bits too). */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!match || !isIpv4(match[1]!)) return undefined;
  const prefix = Number(match[2]);
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const start = ipToNumber(match[1]!);
  if (start % size !== 0) return undefined;
  return { start, prefix, size };
}

export function formatCidr(cidr: Cidr): string {
  return `${numberToIp(cidr.start)}/${cidr.prefix}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.start < b.start + b.size && b.start < a.start + a.size;
}

/**
 * The first subnet of `size` addresses (a power of two), aligned to its size, inside `block` and clear of
 * every `taken` range; undefined when the block has no room left.
 */
export function firstFreeSubnet(block: Cidr, size: number, taken: readonly Cidr[]): Cidr | undefined {
  const prefix = 32 - Math.log2(size);
  if (!Number.isInteger(prefix) || size > block.size) return undefined;
  const sorted = [...taken].sort((x, y) => x.start - y.start);
  for (let start = block.start; start + size <= block.start + block.size; start += size) {
    const candidate = { start, prefix, size };
    const clash = sorted.find((t) => overlaps(t, candidate));
    if (clash === undefined) return candidate;
    // Skip past the clash, keeping alignment, instead of testing every slot inside it.
    const next = Math.ceil((clash.start + clash.size) / size) * size;
    start = next - size;
  }
  return undefined;
}

// The hardware identity a cloned VM can be given (web-ui.md §2.7 "Patch Preview"): a board
// of a real vendor, a desktop CPU, a MAC under that vendor's OUI, an SSD serial, and the
// QEMU `-smbios` arguments that present them. Pure; `random` is injectable for repeatability.

interface Board {
  brand: string;
  board: string;
  /** An OUI the vendor's onboard NICs use. */
  oui: string;
}

const BOARDS: Board[] = [
  { brand: 'ASUSTeK COMPUTER INC.', board: 'PRIME B550M-A', oui: '04:42:1A' },
  { brand: 'Micro-Star International Co., Ltd.', board: 'B450 TOMAHAWK MAX', oui: '00:D8:61' },
  { brand: 'Gigabyte Technology Co., Ltd.', board: 'B560M DS3H', oui: '18:C0:4D' },
  { brand: 'ASRock', board: 'B660M Pro RS', oui: '70:85:C2' },
];

const CPUS = [
  'AMD Ryzen 5 5600X 6-Core Processor',
  'AMD Ryzen 7 5700X 8-Core Processor',
  'Intel(R) Core(TM) i5-12400F',
  'Intel(R) Core(TM) i7-10700',
];

const SSD_PREFIXES = ['S4EWNX0', 'WD-WX', '2243E6', 'BTHH'];
const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

export interface Patch {
  brand: string;
  board: string;
  cpu: string;
  mac: string;
  ssdSerial: string;
  /** Board and system serial of the SMBIOS tables. */
  serial: string;
  smbiosArgs: string;
}

const pick = <T>(list: readonly T[], random: () => number): T => list[Math.floor(random() * list.length) % list.length];
const chars = (n: number, alphabet: string, random: () => number) =>
  Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length) % alphabet.length]).join('');
const hexByte = (random: () => number) => Math.floor(random() * 256).toString(16).padStart(2, '0').toUpperCase();

/** QEMU takes commas inside a value doubled. */
const smbiosValue = (v: string) => v.replace(/,/g, ',,');

export function generatePatch(random: () => number = Math.random): Patch {
  const b = pick(BOARDS, random);
  const serial = chars(15, ALNUM, random);
  const mac = [b.oui, hexByte(random), hexByte(random), hexByte(random)].join(':');
  const ssdSerial = pick(SSD_PREFIXES, random) + chars(8, ALNUM, random);
  const cpu = pick(CPUS, random);
  const cpuMaker = cpu.startsWith('AMD') ? 'Advanced Micro Devices, Inc.' : 'Intel(R) Corporation';
  const smbiosArgs = [
    `-smbios type=1,manufacturer=${smbiosValue(b.brand)},product=${smbiosValue(b.board)},serial=${serial}`,
    `-smbios type=2,manufacturer=${smbiosValue(b.brand)},product=${smbiosValue(b.board)},serial=${serial}`,
    `-smbios type=4,manufacturer=${smbiosValue(cpuMaker)},version=${smbiosValue(cpu)}`,
  ].join(' ');
  return { brand: b.brand, board: b.board, cpu, mac, ssdSerial, serial, smbiosArgs };
}

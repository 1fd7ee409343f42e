/*
 * dsdt.asl - the Differentiated System Description Table of both machines, in ASL.
 *
 * Stage 4 assembled its DSDT byte by byte in C (stage4-devices/acpi.c). Here the same job is
 * done the way firmware writers do it: in ACPI Source Language, compiled by Intel's iasl
 * (Debian acpica-tools) at build time into AML byte code, which board.mk turns into a C
 * array (iasl -tc). It is compiled twice: once as is (machine `pc`, i440FX + PIIX3) and once
 * with -DQ35 (machine `q35`, Q35 MCH + ICH9), through iasl's own C-like preprocessor.
 *
 * What it tells the OS (ACPI 6.4: 6.1 device identification, 6.2 _CRS, 6.2.13 _PRT, 7.4 \_S5):
 *   \_SB.PCI0        the PCI root bridge: which buses, ports and memory it forwards, and how
 *                    each slot's INTA#-INTD# reach the I/O APIC
 *   \_SB.PCI0.ISA    the ISA bridge (pc: PIIX3 at 00:01.0; q35: the ICH9 LPC bridge at
 *                    00:1f.0, named LPC) and the legacy devices behind it: COM1, the RTC, and
 *                    the i8042's two ports: the PS/2 keyboard (PNP0303: ports 0x60 and 0x64,
 *                    IRQ 1) and the PS/2 mouse (PNP0F13: IRQ 12). Linux's i8042 driver finds
 *                    the controller this way (PNP first), SeaBIOS decides by PNP0303 whether
 *                    to set up a keyboard at all (input/)
 *   \_SB.HPET        the HPET (PNP0103) and its register block at 0xfed00000 (board/hpet.h). The
 *                    ACPI HPET table already tells Linux where the timer is; this device is
 *                    how an OS that enumerates devices (Windows, Linux's /dev/hpet driver)
 *                    finds it and keeps its page out of everything else's way
 *   \_SB.MRES        motherboard resources: ports and memory that belong to no device Linux
 *                    knows (the ACPI PM block; on q35 the ECAM window, which Linux accepts for
 *                    its MCFG only once a PNP0C02 device reserves it)
 *   \_S5             the sleep type that powers the machine off (stage4-devices/power.h)
 *
 * Two values are not known at build time: where RAM ends below 4 GiB, which is where the PCI
 * memory window starts, and where the 64-bit PCI window starts (past the RAM above 4 GiB, on a
 * 1 GiB boundary, as SeaBIOS places 64-bit BARs; board/pc_memory.h). The AML keeps placeholders
 * in \RAMT and \P64G (that start in GiB), and firmware.c patches the four bytes after each
 * name with the real value before handing the table to SeaBIOS; _CRS reads them at run time.
 *
 * Left out on purpose: the floppy controller and the 8237 DMA controller (none is emulated;
 * see firmware.h).
 */
DefinitionBlock ("", "DSDT", 2, "MINIVR", "MINIVISR", 1)
{
    /* The end of RAM below 4 GiB; firmware.c replaces the placeholder (a DWord constant). */
    Name (RAMT, 0x12345678)
    /* The 64-bit PCI window's start in GiB (its size: 32 GiB); patched the same way. */
    Name (P64G, 0x12345679)

    Scope (\_SB)
    {
        Device (PCI0)
        {
#ifdef Q35
            Name (_HID, EisaId ("PNP0A08"))   /* a PCI Express root bridge ... */
            Name (_CID, EisaId ("PNP0A03"))   /* ... that is also a plain PCI one */
#else
            Name (_HID, EisaId ("PNP0A03"))   /* a PCI root bridge */
#endif
            Name (_UID, Zero)                 /* no _ADR: a _HID device must not have one */
            Name (_BBN, Zero)                 /* its first bus number */

            /*
             * What the bridge forwards to PCI: Linux assigns BARs inside these windows and
             * rejects those outside. The memory window runs from the end of RAM (patched)
             * to just below the I/O APIC at 0xfec00000. On q35 it is split around the
             * ECAM window at 0xb0000000-0xbfffffff, which is not PCI memory. The 64-bit
             * window (HIGM) lies past all RAM, for large BARs.
             */
            Name (CRES, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)    /* its own config ports */
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
#ifdef Q35
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable,
                    ReadWrite, 0x00000000, 0x00000000, 0xAFFFFFFF, 0x00000000, 0xB0000000,
                    , , LOWM)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable,
                    ReadWrite, 0x00000000, 0xC0000000, 0xFEBFFFFF, 0x00000000, 0x3EC00000)
#else
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable,
                    ReadWrite, 0x00000000, 0x00000000, 0xFEBFFFFF, 0x00000000, 0xFEC00000,
                    , , LOWM)
#endif
                QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable,
                    ReadWrite, 0x0, 0x0, 0x0, 0x0, 0x0, , , HIGM)
            })

            Method (_CRS, 0, Serialized)
            {
                CreateDWordField (CRES, \_SB.PCI0.LOWM._MIN, WMIN)
                CreateDWordField (CRES, \_SB.PCI0.LOWM._MAX, WMAX)
                CreateDWordField (CRES, \_SB.PCI0.LOWM._LEN, WLEN)
                WMIN = RAMT
                If (WMIN > WMAX)
                {
                    WLEN = Zero              /* RAM reaches the ECAM: no low window */
                }
                Else
                {
                    WLEN = WMAX - WMIN + One
                }
                CreateQWordField (CRES, \_SB.PCI0.HIGM._MIN, HMIN)
                CreateQWordField (CRES, \_SB.PCI0.HIGM._MAX, HMAX)
                CreateQWordField (CRES, \_SB.PCI0.HIGM._LEN, HLEN)
                HMIN = P64G << 30           /* DSDT revision 2: integers have 64 bits */
                HLEN = 0x800000000
                HMAX = HMIN + HLEN - One
                Return (CRES)
            }

            /*
             * PCI interrupt routing: slot S's pin P (0 = INTA#) goes straight to I/O APIC
             * input 16 + ((S + P) & 7) (chipset_intx_gsi() in chipset.h). Each entry is
             * { address 0xSSSSFFFF (any function), pin, source 0 (no link device: a GSI),
             * GSI }; Linux takes such GSIs as level-triggered, active low. The 128 entries
             * are built on each call rather than written out.
             */
            Method (_PRT, 0, NotSerialized)
            {
                Local0 = Package (0x80) {}
                Local1 = Zero
                While (Local1 < 0x80)
                {
                    Local2 = Local1 >> 2                /* slot */
                    Local3 = Local1 & 0x03              /* pin */
                    Local4 = Package (0x04) { Zero, Zero, Zero, Zero }
                    Local4 [Zero] = (Local2 << 16) | 0xFFFF
                    Local4 [One] = Local3
                    Local4 [0x03] = 0x10 + ((Local2 + Local3) & 0x07)
                    Local0 [Local1] = Local4
                    Local1++
                }
                Return (Local0)
            }

#ifdef Q35
            Device (LPC)
            {
                Name (_ADR, 0x001F0000)       /* ICH9 LPC bridge, 00:1f.0 */
#else
            Device (ISA)
            {
                Name (_ADR, 0x00010000)       /* PIIX3 ISA bridge, 00:01.0 */
#endif
                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))   /* 16550A-compatible UART */
                    Name (_UID, One)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
                        IRQNoFlags () {4}
                    })
                }

                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))   /* AT real-time clock, CMOS */
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
                        IRQNoFlags () {8}
                    })
                }

                /* The i8042's keyboard port: its data and command ports are the keyboard's. */
                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))   /* IBM enhanced (101/102-key) keyboard */
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () {1}
                    })
                }

                /* Its auxiliary port: a PS/2 mouse, on the same ports, IRQ 12. */
                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))   /* PS/2-style mouse */
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () {12}
                    })
                }
            }
        }

        /* The event timer: always present on both machines (board/hpet.c). */
        Device (HPET)
        {
            Name (_HID, EisaId ("PNP0103"))   /* IA-PC HPET */
            Name (_UID, Zero)
            Name (_STA, 0x0F)                 /* present, enabled, shown, working */
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadOnly, 0xFED00000, 0x00000400)
            })
        }

        /* Resources of the board itself, so that nothing else is put there. */
        Device (MRES)
        {
            Name (_HID, EisaId ("PNP0C02"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
#ifdef Q35
                IO (Decode16, 0x0600, 0x0600, 0x01, 0x80)   /* ICH9 PM block (SMI_EN too) */
#endif
                /* (pc: the PIIX4 function's PMBA claims its PM block, 00:01.3) */
                IO (Decode16, 0x0510, 0x0510, 0x01, 0x0C)   /* fw_cfg and its DMA port */
#ifdef Q35
                Memory32Fixed (ReadWrite, 0xB0000000, 0x10000000)   /* ECAM, 256 buses */
#endif
            })
        }
    }

    /* Soft off: SLP_TYP 5 into PM1a control (stage 4's ACPI_S5_SLP_TYP). */
    Name (_S5, Package (0x04) { 0x05, Zero, Zero, Zero })
}

//! The `acpi` crate's window onto the machine: mapping physical memory
//! (the direct map, or `map_device` for pages it does not cover), port
//! I/O and time. PCI configuration space and AML services are not provided
//! (the kernel runs no AML); those calls read all-ones and write nothing.

use core::ptr::NonNull;

use acpi::{Handler, PciAddress, PhysicalMapping};

use crate::arch::{CacheType, Port};
use crate::memory::PAGE_SIZE;
use crate::memory::layout::DIRECT_MAP_OFFSET;
use crate::memory::paging;

/// The kernel's handler: stateless, so copies are free.
#[derive(Debug, Clone, Copy)]
pub struct KernelAcpi;

/// Makes `phys..phys + size` readable through the direct-map window and
/// returns the virtual address of `phys`: pages the direct map lacks are
/// mapped write-back once (ACPI tables are memory, not registers) and
/// stay. Panics if a page cannot be mapped (out of page-table frames).
pub fn map(phys: u64, size: u64) -> u64 {
    let first = phys - phys % PAGE_SIZE;
    let end = (phys + size.max(1)).next_multiple_of(PAGE_SIZE);
    for page in (first..end).step_by(PAGE_SIZE as usize) {
        if paging::translate(DIRECT_MAP_OFFSET + page).is_none()
            && let Err(error) = paging::map_device(page, PAGE_SIZE, CacheType::WriteBack)
        {
            panic!("acpi: cannot map the table page at {page:#x}: {error:?}");
        }
    }
    DIRECT_MAP_OFFSET + phys
}

/// Reads a port of width `T`.
fn port_read<T: x86_64::instructions::port::PortRead>(port: u16) -> T {
    // SAFETY: only the crate's register accesses come here, for ports the
    // firmware's tables name; reading them is what ACPI defines.
    unsafe { Port::<T>::new(port).read() }
}

/// Writes a port of width `T`.
fn port_write<T: x86_64::instructions::port::PortWrite>(port: u16, value: T) {
    // SAFETY: as in `port_read`.
    unsafe { Port::<T>::new(port).write(value) }
}

/// Reads memory-mapped `T` at physical `address`.
fn mem_read<T: Copy>(address: usize) -> T {
    let virt = map(address as u64, core::mem::size_of::<T>() as u64);
    // SAFETY: `map` made the bytes readable at `virt`; volatile, since the
    // crate uses this for registers.
    unsafe { core::ptr::read_volatile(virt as *const T) }
}

/// Writes memory-mapped `T` at physical `address`.
fn mem_write<T: Copy>(address: usize, value: T) {
    let virt = map(address as u64, core::mem::size_of::<T>() as u64);
    // SAFETY: as in `mem_read`; writable, since the direct map and
    // `map_device` both map read + write.
    unsafe { core::ptr::write_volatile(virt as *mut T, value) }
}

impl Handler for KernelAcpi {
    unsafe fn map_physical_region<T>(
        &self,
        physical_address: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        let virt = map(physical_address as u64, size as u64);
        PhysicalMapping {
            physical_start: physical_address,
            virtual_start: NonNull::new(virt as *mut T).expect("the direct map is never at 0"),
            region_length: size,
            mapped_length: size,
            handler: *self,
        }
    }

    /// Mappings stay: tables are read again at power-off, and they are few.
    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}

    fn read_u8(&self, address: usize) -> u8 {
        mem_read(address)
    }
    fn read_u16(&self, address: usize) -> u16 {
        mem_read(address)
    }
    fn read_u32(&self, address: usize) -> u32 {
        mem_read(address)
    }
    fn read_u64(&self, address: usize) -> u64 {
        mem_read(address)
    }
    fn write_u8(&self, address: usize, value: u8) {
        mem_write(address, value)
    }
    fn write_u16(&self, address: usize, value: u16) {
        mem_write(address, value)
    }
    fn write_u32(&self, address: usize, value: u32) {
        mem_write(address, value)
    }
    fn write_u64(&self, address: usize, value: u64) {
        mem_write(address, value)
    }
    fn read_io_u8(&self, port: u16) -> u8 {
        port_read(port)
    }
    fn read_io_u16(&self, port: u16) -> u16 {
        port_read(port)
    }
    fn read_io_u32(&self, port: u16) -> u32 {
        port_read(port)
    }
    fn write_io_u8(&self, port: u16, value: u8) {
        port_write(port, value)
    }
    fn write_io_u16(&self, port: u16, value: u16) {
        port_write(port, value)
    }
    fn write_io_u32(&self, port: u16, value: u32) {
        port_write(port, value)
    }
    fn read_pci_u8(&self, _address: PciAddress, _offset: u16) -> u8 {
        u8::MAX
    }
    fn read_pci_u16(&self, _address: PciAddress, _offset: u16) -> u16 {
        u16::MAX
    }
    fn read_pci_u32(&self, _address: PciAddress, _offset: u16) -> u32 {
        u32::MAX
    }
    fn write_pci_u8(&self, _address: PciAddress, _offset: u16, _value: u8) {}
    fn write_pci_u16(&self, _address: PciAddress, _offset: u16, _value: u16) {}
    fn write_pci_u32(&self, _address: PciAddress, _offset: u16, _value: u32) {}

    fn nanos_since_boot(&self) -> u64 {
        crate::time::uptime().as_nanos() as u64
    }

    fn stall(&self, microseconds: u64) {
        crate::time::spin_for(core::time::Duration::from_micros(microseconds));
    }

    fn sleep(&self, milliseconds: u64) {
        crate::time::spin_for(core::time::Duration::from_millis(milliseconds));
    }

    /// AML mutexes: never used, since the kernel runs no AML.
    fn create_mutex(&self) -> acpi::Handle {
        acpi::Handle(0)
    }

    fn acquire(&self, _mutex: acpi::Handle, _timeout: u16) -> Result<(), acpi::aml::AmlError> {
        Ok(())
    }

    fn release(&self, _mutex: acpi::Handle) {}
}

// Simulation top of the edgehost SoC for Verilator (fpga/sim/tb.cpp drives it): the SoC with
// 2^RAM_ADDR_BITS bytes of RAM (eh_ram.v) at 0x8000_0000, loaded from +mem=<hex file> ($readmemh, word
// addresses relative to the RAM's start), the UART as byte streams (the testbench bridges them
// to a TCP socket), the signals the testbench counts instructions with, and one that shows the
// firmware polling its UART's line status (the testbench's idle detection).
`default_nettype none
module eh_sim_top #(
    parameter integer RAM_ADDR_BITS = 23
) (
    input  wire        clk,
    input  wire        resetn,
    input  wire        cfu_enable,
    output wire        tx_valid,
    output wire [7:0]  tx_data,
    input  wire        rx_valid,
    input  wire [7:0]  rx_data,
    output wire        rx_ready,
    output wire        exit_valid,
    output wire [15:0] exit_code,
    output wire        trap,
    output wire        dbg_launch,    // an instruction starts this cycle ...
    output wire [31:0] dbg_pc,        // ... at this address
    output wire        dbg_lsr_read   // the CPU reads the UART's line status register this cycle
);
    wire        ram_en;
    wire [3:0]  ram_we;
    wire [RAM_ADDR_BITS-3:0] ram_addr;
    wire [31:0] ram_wdata;
    wire [31:0] ram_rdata;

    eh_ram #(.ADDR_BITS(RAM_ADDR_BITS)) ram (
        .clk(clk), .en(ram_en), .we(ram_we), .addr(ram_addr), .wdata(ram_wdata), .rdata(ram_rdata)
    );

    eh_soc #(.RAM_ADDR_BITS(RAM_ADDR_BITS), .WITH_CFU(1), .FAST_MUL(1)) soc (
        .clk(clk), .resetn(resetn), .cfu_enable(cfu_enable),
        .ram_en(ram_en), .ram_we(ram_we), .ram_addr(ram_addr), .ram_wdata(ram_wdata),
        .ram_rdata(ram_rdata),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(1'b1), .tx_busy(1'b0),
        .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready), .uart_divisor(),
        .exit_valid(exit_valid), .exit_code(exit_code), .trap(trap)
    );

    assign dbg_launch = soc.cpu.launch_next_insn;
    assign dbg_pc = soc.cpu.next_pc;
    assign dbg_lsr_read = soc.uart_access && soc.mem_addr[2] && soc.mem_wstrb == 4'b0;
endmodule
`default_nettype wire
